"""Staff actions: each legal move of the Taobao states, every other one refused with nothing
changed, recorded with who and when, and acting once however often it is sent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.services import Services
from bot.workbench import parse_action


def act(services: Services, staff: str = "alice", key: str | None = None, **action: object):
    return services.workbench.perform(parse_action(action), staff, request_key=key)


def record(services: Services, tid: str, rid: str):
    order = services.orders.order(tid)
    assert order is not None
    return next(r for r in order.refunds if r.id == rid)


def test_ship_sets_shipping_and_is_recorded_with_who_and_when(services: Services) -> None:
    out = act(services, action="order.ship", tid="9005", carrier="顺丰速运", tracking_no="SF100200")
    assert out.done and out.staff == "alice" and out.at == services.clock.now()
    order = services.orders.order("9005")
    assert order is not None and order.status == "WAIT_BUYER_CONFIRM_GOODS"
    assert order.shipping is not None and order.shipping.tracking_no == "SF100200"
    assert order.shipping.shipped_at == services.clock.now()
    [logged] = services.workbench.history(tid="9005")
    assert (logged.action, logged.staff, logged.status) == ("order.ship", "alice", "done")


def test_return_refund_settles_the_ledger_only_after_the_goods_are_back(services: Services) -> None:
    before = services.orders.ledger("9008")["9008-1"]
    assert before.open_refund == "R2" and before.open == 14280 and before.refunded == 0

    assert act(services, action="return.agree", tid="9008").done
    assert record(services, "9008", "R2").status == "WAIT_BUYER_RETURN_GOODS"
    refused = act(services, action="refund.complete", tid="9008")
    assert not refused.done and "确认收到退货" in refused.message
    assert act(services, action="return.received", tid="9008").done
    assert record(services, "9008", "R2").status == "WAIT_SELLER_CONFIRM_GOODS"
    assert act(services, action="refund.complete", tid="9008").done

    after = services.orders.ledger("9008")["9008-1"]
    assert (after.open_refund, after.open, after.refunded_by, after.refunded) == (None, 0, "R2", 14280)
    order = services.orders.order("9008")
    assert order is not None and order.status == "TRADE_CLOSED"
    assert record(services, "9008", "R2").status == "SUCCESS"


def test_refund_only_agreed_is_refunded_at_once(services: Services) -> None:
    out = act(services, action="return.agree", tid="9009")
    assert out.done and out.detail.to_status == "SUCCESS" and out.detail.amount == Decimal("98.00")
    assert services.orders.ledger("9009")["9009-1"].refunded_by == "R3"


def test_refusal_frees_the_item_for_a_new_after_sale(services: Services) -> None:
    assert act(services, action="return.refuse", tid="9008", reason="已拆封").done
    balance = services.orders.ledger("9008")["9008-1"]
    assert balance.free and balance.open == 0
    assert record(services, "9008", "R2").status == "SELLER_REFUSE_BUYER"


def test_exchange_ships_after_the_goods_are_back(services: Services) -> None:
    ship = {"action": "exchange.ship", "tid": "9007", "carrier": "中通快递", "tracking_no": "75319990001"}
    assert not act(services, **ship).done
    assert act(services, action="return.agree", tid="9007").done
    assert not act(services, **ship).done
    assert act(services, action="return.received", tid="9007").done
    out = act(services, **ship)
    assert out.done and out.detail.exchange_sku == "W202-BK"
    assert record(services, "9007", "R1").status == "SUCCESS"
    assert services.orders.ledger("9007")["9007-1"].free


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ({"action": "order.ship", "tid": "9003", "carrier": "顺丰速运", "tracking_no": "SF100"}, "待付款"),
        ({"action": "order.ship", "tid": "9005", "carrier": "极兔速递", "tracking_no": "JT1001"}, "中通快递"),
        ({"action": "return.agree", "tid": "9005"}, "没有售后"),
        ({"action": "return.received", "tid": "9008"}, "等待商家处理"),
        ({"action": "refund.complete", "tid": "9007"}, "等待商家处理"),
        ({"action": "exchange.ship", "tid": "9008", "carrier": "顺丰速运", "tracking_no": "SF2001"}, "等待商家处理"),
        ({"action": "ticket.close", "tid": "9005", "note": "无"}, "没有待处理的工单"),
        ({"action": "return.agree", "tid": "9008", "refund_id": "R9"}, "没有售后单 R9"),
        ({"action": "order.ship", "tid": "0000", "carrier": "顺丰速运", "tracking_no": "SF2001"}, "没有找到订单"),
    ],
)
def test_illegal_actions_are_refused_and_change_nothing(services: Services, action: dict[str, str], reason: str) -> None:
    before = services.orders.export()
    out = services.workbench.perform(parse_action(action), "alice")
    assert not out.done and reason in out.message
    assert services.orders.export() == before
    assert services.outreach.outbox.messages() == []


def test_the_same_request_key_acts_once(services: Services) -> None:
    first = act(services, key="k1", action="return.agree", tid="9009")
    again = act(services, key="k1", action="return.agree", tid="9009")
    assert again == first and again.done
    assert len(services.workbench.history(tid="9009")) == 1
    assert len(services.outreach.outbox.messages(buyer_id="c02")) == 1


def test_the_same_action_without_a_key_is_refused_by_the_state(services: Services) -> None:
    assert act(services, action="return.agree", tid="9009").done
    second = act(services, action="return.agree", tid="9009")
    assert not second.done and "已完成" in second.message
    assert services.orders.ledger("9009")["9009-1"].refunded == 9800


def test_open_items_list_what_waits_with_its_age_and_legal_actions(services: Services) -> None:
    items = {(i.kind, i.tid): i for i in services.workbench.open_items()}
    assert set(items) >= {("ship", "9004"), ("ship", "9005"), ("exchange", "9007"), ("return", "9008"), ("refund", "9009")}
    assert items[("return", "9008")].actions == ["return.agree", "return.refuse"]
    assert items[("return", "9008")].age_minutes == 23 * 60  # opened 2026-11-20 11:00
    assert items[("ship", "9004")].actions == ["order.ship"]
    services.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    late = {(i.kind, i.tid): i for i in services.workbench.open_items()}
    assert late[("ship", "9005")].overdue and not items[("ship", "9005")].overdue

    act(services, action="return.agree", tid="9008")
    act(services, action="return.received", tid="9008")
    after = {(i.kind, i.tid): i for i in services.workbench.open_items()}
    assert after[("return", "9008")].goods_back and after[("return", "9008")].actions == ["refund.complete"]
    act(services, action="refund.complete", tid="9008")
    assert ("return", "9008") not in {(i.kind, i.tid) for i in services.workbench.open_items()}


@pytest.mark.parametrize(
    "action",
    [
        {"action": "order.ship", "tid": "9005", "carrier": "顺丰速运", "tracking_no": "SF1"},
        {"action": "order.ship", "tid": "9005", "carrier": "顺丰速运"},
        {"action": "return.refuse", "tid": "9008", "reason": "  "},
        {"action": "order.pay", "tid": "9003"},
        {"action": "ticket.close", "tid": "9005", "note": "x", "extra": 1},
    ],
)
def test_malformed_actions_do_not_parse(action: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_action(action)
