"""A faulty piece is exchanged for a new one of the very SKU the buyer has (「杯盖漏水 给我换个
新的」), with a yes first and a request for photos; another colour or size still goes as asked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager, FlowOutcome
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.router import build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")  # order 7002 (W202-GR) signed on the 18th


def _talk(shop: Shop, tmp_path: Path, *texts: str) -> tuple[list[FlowOutcome], SqlOrderBackend]:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    dm = DialogueManager(shop, backend, build_router(shop), FrozenClock(NOW), SequentialIds())
    outs, state = [], {}
    for text in texts:
        out = dm.handle(state, "b01", text)
        state = out.state
        outs.append(out)
    return outs, backend


@pytest.mark.parametrize("text", ["7002的杯子漏水了 给我换个新的", "7002杯盖坏了能换吗", "7002想换个同款"])
def test_a_faulty_piece_is_exchanged_for_the_same_sku_after_a_yes(tmp_path: Path, text: str) -> None:
    (ask, yes), backend = _talk(load_shop(MINI), tmp_path, text, "确认")
    assert ask.action is None and ask.state["pending"]["kind"] == "exchange", ask.reply
    assert ask.state["pending"]["exchange_sku"] == "W202-GR"
    assert yes.action == "exchange.create"
    refund = backend.order("7002").refunds[0]
    assert (refund.exchange_sku, refund.status) == ("W202-GR", "WAIT_SELLER_AGREE")


def test_a_quality_exchange_asks_for_photos(tmp_path: Path) -> None:
    (ask,), _ = _talk(load_shop(MINI), tmp_path, "7002的杯子漏水了 给我换个新的")
    assert "照片" in ask.reply and "同款" in ask.reply


def test_a_colour_asked_for_beside_a_fault_is_the_target(tmp_path: Path) -> None:
    (ask,), _ = _talk(load_shop(MINI), tmp_path, "7002的杯子漏水了 换成黑色")
    assert ask.state["pending"]["exchange_sku"] == "W202-BK"


def test_without_a_fault_the_same_sku_is_not_an_exchange(tmp_path: Path) -> None:
    (ask,), backend = _talk(load_shop(MINI), tmp_path, "7002想换货")
    assert ask.state["pending"]["kind"] == "ask_exchange_sku"
    assert not backend.order("7002").refunds


def test_no_new_piece_of_a_sold_out_sku_is_promised(tmp_path: Path) -> None:
    shop = load_shop(MINI)
    sku = shop.products["W202"].sku("W202-GR")
    assert sku is not None
    sku.stock = 0
    (ask, yes), backend = _talk(shop, tmp_path, "7002的杯子漏水了 给我换个新的", "确认")
    assert ask.fine_intent == "exchange_out_of_stock" and ask.state["pending"]["kind"] == "ask_exchange_sku"
    assert yes.action != "exchange.create" and not backend.order("7002").refunds
