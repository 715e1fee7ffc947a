"""The handoff summary names only the buyer's own orders: 「投诉12315」 is the hotline."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.router import build_router
from bot.shop import load_shop
from bot.storage.db import create_all, make_engine

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def _manager(tmp_path: Path) -> DialogueManager:
    shop = load_shop(KNOWLEDGE)
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    return DialogueManager(shop, backend, build_router(shop), FrozenClock(NOW), SequentialIds())


def test_a_hotline_number_is_not_taken_for_an_order(tmp_path: Path) -> None:
    out = _manager(tmp_path).handle({}, "b01", "你们再不处理我就投诉12315！太气人了，给我转人工")
    assert out.handoff and out.handoff_summary
    assert "订单 12315" not in out.handoff_summary and "未指明订单" in out.handoff_summary


def test_the_buyers_own_order_is_named(tmp_path: Path) -> None:
    dm = _manager(tmp_path)
    own = dm.orders.orders_of("b01")[0].tid
    out = dm.handle({}, "b01", f"订单{own}一直不发货，我要投诉，转人工")
    assert out.handoff and out.handoff_summary and f"订单 {own}" in out.handoff_summary
