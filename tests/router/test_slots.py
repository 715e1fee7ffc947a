"""Slots read from a buyer turn: an ID-card number is never an order id."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.lexicon import load_lexicon
from bot.router.router import build_router
from bot.router.slots import extract_slots
from bot.shop import load_shop
from bot.storage.db import create_all, make_engine
from bot.text.normalize import normalize

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"


def tids(text: str) -> list[str]:
    return extract_slots(normalize(text), load_lexicon()).tids


@pytest.mark.parametrize("text", [
    "查一下订单330106199001011234",
    "订单号是 110101199003074514",
    "我的身份证33010619900101123X",
    "身份证 330106900101123 帮我查下",
])
def test_an_id_card_number_is_never_an_order_id(text: str) -> None:
    assert tids(text) == []


def test_order_ids_are_still_read_next_to_an_id_card_number() -> None:
    assert tids("订单8001，身份证110101199003074514") == ["8001"]
    assert tids("订单号1234567890123456789到哪了") == ["1234567890123456789"]


def test_the_bot_does_not_answer_an_id_card_number_as_an_unknown_order(tmp_path: Path) -> None:
    # Before, "没有查到订单 330106199001011234" repeated the buyer's ID number back (and so
    # into the history a model is sent).
    shop = load_shop(MINI)
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    orders = SqlOrderBackend(engine, shop)
    orders.ensure_seeded()
    clock = FrozenClock(datetime.fromisoformat("2026-11-21T10:00:00+08:00"))
    dm = DialogueManager(shop, orders, build_router(shop), clock, SequentialIds())
    out = dm.handle({}, "b01", "帮我查下订单 330106199001011234")
    assert out.reply and "330106199001011234" not in out.reply and "没有查到订单" not in out.reply
    assert "没有查到订单 9999" in (dm.handle({}, "b01", "订单 9999 到哪了").reply or "")
