"""Flow replies show a record id a person can read out, never one the id provider made."""

from __future__ import annotations

from bot.evaluation.audit import raw_ids
from bot.flows.templates import FlowTemplates
from bot.ids import internal_id
from bot.shop import Shop


def test_a_readable_id_is_shown_and_an_internal_one_is_left_out(demo_shop: Shop) -> None:
    t = FlowTemplates(demo_shop)
    values = {"refund_type": "退货退款", "amount": "58.50", "refund_status": "等待商家处理"}
    assert "售后单 R3" in t.render("refund_line", refund_id="R3", **values)
    internal = t.render("refund_line", refund_id="Rde4c801a08ec47d3", **values)
    assert "Rde4c801a08ec47d3" not in internal and "退货退款（58.50 元）" in internal and not raw_ids(internal)
    assert internal_id("Tf2bbb645cecf4f52") and not internal_id("R3") and not internal_id("7001")
