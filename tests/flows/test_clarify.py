"""Unsure between two readings, the bot asks which one is meant; the answer picks it, the
first question is then served as that intent, and nothing changes without a yes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.classifier import Prediction
from bot.router.router import Router, build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
UNSURE = "那个东西弄一下呗"  # no rule reads it; the classifier below is torn between two


class TornClassifier:
    """A fitted classifier that cannot decide between refund and logistics."""

    fitted = True

    def predict(self, norm: str) -> Prediction:
        return Prediction("refund", 0.28, "logistics", 0.26)


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(MINI)


@pytest.fixture(scope="module")
def torn(shop: Shop) -> Router:
    real = build_router(shop)
    return Router(shop, real.linker, TornClassifier())  # type: ignore[arg-type]


@pytest.fixture
def dm(shop: Shop, torn: Router, tmp_path: Path) -> DialogueManager:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    return DialogueManager(shop, backend, torn, FrozenClock(NOW), SequentialIds())


def test_two_readings_are_asked_about_not_guessed(dm: DialogueManager) -> None:
    out = dm.handle({}, "b01", UNSURE)
    assert out.intent == "other" and out.action is None
    assert "申请退款" in out.reply and "查快递进度" in out.reply and "还是" in out.reply
    assert out.state["pending"]["kind"] == "clarify"
    assert out.state["pending"]["options"] == ["refund", "logistics"]


@pytest.mark.parametrize(("answer", "intent"), [("第二个", "logistics"), ("查快递进度", "logistics"), ("前面那个", "refund")])
def test_the_answer_picks_one_and_serves_the_first_question(dm: DialogueManager, answer: str, intent: str) -> None:
    first = dm.handle({}, "b01", UNSURE)
    out = dm.handle(first.state, "b01", answer)
    assert out.intent == intent
    assert (out.state.get("pending") or {}).get("kind") != "clarify"
    assert out.action not in ("refund.create", "order.cancel")  # a pick is not a yes


def test_a_new_request_instead_of_an_answer_is_served(dm: DialogueManager) -> None:
    first = dm.handle({}, "b01", UNSURE)
    out = dm.handle(first.state, "b01", "帮我查下7001的物流")
    assert out.intent == "logistics"


def test_a_pending_yes_no_question_is_never_turned_into_a_clarification(shop: Shop, torn: Router) -> None:
    pending = {"pending": {"id": "a1", "kind": "refund", "intent": "refund"}}
    turn = torn.route(UNSURE, pending)
    assert turn.fine_intent != "clarify" and turn.intent != "confirm"


# -- questions while a change waits for a yes (the real router) -------------------------------


@pytest.fixture
def real_dm(shop: Shop, tmp_path: Path) -> DialogueManager:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    return DialogueManager(shop, backend, build_router(shop), FrozenClock(NOW), SequentialIds())


def _proposed(dm: DialogueManager) -> dict:
    out = dm.handle({}, "b01", "7001不想要了，帮我退款")
    assert out.state["pending"]["kind"] == "refund" and out.action is None
    return out.state


@pytest.mark.parametrize("question", ["真的能退吗", "可以吗？", "不确定要不要退", "退款的话运费谁出"])
def test_a_question_about_the_waiting_change_shows_it_again_and_keeps_waiting(real_dm: DialogueManager, question: str) -> None:
    state = _proposed(real_dm)
    out = real_dm.handle(state, "b01", question)
    assert out.fine_intent == "pending_question" and out.action is None
    assert "142.80" in out.reply and "确认" in out.reply
    assert out.state["pending"]["kind"] == "refund"
    done = real_dm.handle(out.state, "b01", "确认")
    assert done.action == "refund.create"  # the yes that follows still counts, once


@pytest.mark.parametrize("answer", ["好，不过先别退", "我没说要退", "但是先不退了"])
def test_a_no_after_but_or_a_denial_declines(real_dm: DialogueManager, answer: str) -> None:
    state = _proposed(real_dm)
    out = real_dm.handle(state, "b01", answer)
    assert out.intent == "deny" and out.action is None and out.state.get("pending") is None
