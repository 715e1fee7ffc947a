"""Real buyers' words: negations, ship-time questions before buying, handovers not made on a
guess, a refunded order that closed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.classifier import Prediction
from bot.router.lexicon import load_lexicon
from bot.router.router import Router, build_router
from bot.router.slots import extract_slots
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine
from bot.text.normalize import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.mark.parametrize(
    ("text", "reason_kind", "hint"),
    [
        ("还没收到 直接给我退款", None, "NOT_SIGNED"),
        ("没有收到货", None, "NOT_SIGNED"),
        ("收到了但是坏了", "quality", "SIGNED"),
        ("买了二十多天了 能退吗 没坏", None, None),
        ("不是质量问题 就是不喜欢", "no_reason", None),
        ("是不是坏了", "quality", None),  # a question, not a denial
    ],
)
def test_negated_words_do_not_count(text: str, reason_kind: str | None, hint: str | None) -> None:
    slots = extract_slots(normalize(text), load_lexicon())
    assert (slots.reason_kind, slots.status_hint) == (reason_kind, hint)


def _manager(shop: Shop, router: Router, tmp_path: Path) -> DialogueManager:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    return DialogueManager(shop, backend, router, FrozenClock(NOW), SequentialIds())


@pytest.fixture(scope="module")
def mini() -> Shop:
    return load_shop(FIXTURES / "mini_shop")


def test_ship_time_with_nothing_waiting_to_ship_is_the_shops_shipping_time(mini: Shop, tmp_path: Path) -> None:
    class SaysLogistics:
        fitted = True

        def predict(self, norm: str) -> Prediction:
            return Prediction("logistics", 0.6, "shipping_policy", 0.3)

    router = Router(mini, build_router(mini).linker, SaysLogistics())  # type: ignore[arg-type]
    dm = _manager(mini, router, tmp_path)
    # b02's only order is finished: "when do you ship" is asked before buying.
    assert dm.handle({}, "b02", "什么时候能发货呀").intent == "shipping_policy"
    # b01 has an order waiting to ship: the same words ask about it.
    assert dm.handle({}, "b01", "什么时候能发货呀").intent == "logistics"


def test_a_handover_is_not_made_on_a_guess(mini: Shop) -> None:
    class GuessesHuman:
        fitted = True

        def __init__(self, p: float) -> None:
            self.p = p

        def predict(self, norm: str) -> Prediction:
            return Prediction("human_agent", self.p, "other", 0.2)

    linker = build_router(mini).linker
    unsure = Router(mini, linker, GuessesHuman(0.26)).route("留个号码电话里聊", {})  # type: ignore[arg-type]
    sure = Router(mini, linker, GuessesHuman(0.9)).route("留个号码电话里聊", {})  # type: ignore[arg-type]
    assert unsure.intent == "other" and sure.intent == "human_agent"


def test_a_refunded_closed_order_says_it_was_refunded(tmp_path: Path) -> None:
    shop = load_shop(FIXTURES / "baby_shop")
    dm = _manager(shop, build_router(shop), tmp_path)
    buyer, tid = _closed_refunded(shop)
    out = dm.handle({}, buyer, f"{tid}再给我退一次款")
    assert "退款成功" in out.reply and out.action in (None, "order.query")


def _closed_refunded(shop: Shop) -> tuple[str, str]:
    for order in shop.orders:
        if order.status == "TRADE_CLOSED" and any(r.status == "SUCCESS" and r.type != "EXCHANGE" for r in order.refunds):
            return order.buyer, order.tid
    raise AssertionError("the baby shop fixture has a refunded, closed order")


@pytest.fixture
def digital(tmp_path: Path) -> DialogueManager:
    shop = load_shop(FIXTURES / "digital_shop")
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    at = datetime.fromisoformat("2026-12-12T10:00:00+08:00")
    return DialogueManager(shop, backend, build_router(shop), FrozenClock(at), SequentialIds())


def test_a_product_the_buyer_keeps_is_left_out_of_the_refund(digital: DialogueManager) -> None:
    out = digital.handle({}, "u03", "610021里面那根2米的线不要了，充电器照常发")
    assert out.state["pending"]["kind"] == "refund"
    assert out.state["pending"]["oids"] == ["610021-2"]


def test_a_quality_problem_with_goods_received_is_offered_a_quality_return(digital: DialogueManager) -> None:
    out = digital.handle({}, "u03", "防窥膜刚贴一片就裂了 质量太差了")
    assert out.action is None and out.state["pending"]["kind"] == "return"
    assert "66.80" in out.reply and out.reply.startswith("非常抱歉")
    done = digital.handle(out.state, "u03", "嗯嗯 确认退")
    assert done.action == "return.create"
