"""Turn expectations and final-state matching follow the transcript format's rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.evaluation.matching import check_final_state, check_turn, match_value
from bot.evaluation.suite import Expect
from bot.shop.models import Refund


def outcomes(expect: dict, **turn) -> dict[str, bool]:
    base = {"reply": "", "intent": "other", "action": None, "handoff": False} | turn
    return {o.key: o.passed for o in check_turn(Expect.model_validate(expect), **base)}


def test_intent_and_action_lists_and_none():
    assert outcomes({"intent": ["confirm", "other"]}, intent="other") == {"intent": True}
    assert outcomes({"intent": "refund"}, intent="return") == {"intent": False}
    assert outcomes({"action": "none"}, action=None) == {"action": True}
    assert outcomes({"action": "none"}, action="order.query") == {"action": False}
    assert outcomes({"action": ["order.cancel", "refund.create"]}, action="refund.create") == {"action": True}


def test_reply_checks_ignore_white_space():
    reply = "亲，订单 7003\n已取消，退款 98.00 元"
    assert outcomes({"reply_contains": ["7003已取消", "98.00元"]}, reply=reply) == {"reply_contains": True}
    assert outcomes({"reply_contains": ["7003", "7001"]}, reply=reply) == {"reply_contains": False}
    assert outcomes({"reply_any": ["不清楚", "已取消"]}, reply=reply) == {"reply_any": True}
    assert outcomes({"reply_any": ["不清楚", "人工"]}, reply=reply) == {"reply_any": False}
    assert outcomes({"reply_not_contains": ["微信", "QQ"]}, reply=reply) == {"reply_not_contains": True}
    assert outcomes({"reply_not_contains": ["98 .00"]}, reply=reply) == {"reply_not_contains": False}


def test_handoff_expectation_both_ways():
    assert outcomes({"handoff": True}, handoff=True) == {"handoff": True}
    assert outcomes({"handoff": False}, handoff=True) == {"handoff": False}


def test_failure_messages_say_what_was_expected_and_what_happened():
    (o,) = check_turn(Expect(intent=["refund"]), reply="", intent="return", action=None, handoff=False)
    assert o.message == "intent 'return', expected 'refund'"


def test_nested_maps_match_partially():
    actual = {"status": "TRADE_CLOSED", "address": {"name": "王芳", "detail": "文三路100号"}, "total_paid": Decimal("98.00")}
    assert match_value({"address": {"detail": "文三路 100号"}}, actual) == []
    assert match_value({"address": {"detail": "文三路200号"}}, actual) == [
        "address.detail: expected '文三路200号', got '文三路100号'"
    ]
    assert match_value({"address": {"zip": "310000"}}, actual)[0].startswith("address.zip: missing")


def test_money_compares_as_decimals():
    assert match_value({"amount": Decimal("142.8")}, {"amount": Decimal("142.80")}) == []
    assert match_value({"amount": "142.80"}, {"amount": Decimal("142.8")}) == []
    assert match_value({"amount": 98}, {"amount": Decimal("98.00")}) == []
    assert match_value({"amount": Decimal("98.01")}, {"amount": Decimal("98.00")}) != []


def test_times_compare_as_instants():
    actual = {"created": datetime.fromisoformat("2026-11-21T10:00:00+08:00")}
    assert match_value({"created": "2026-11-21T02:00:00+00:00"}, actual) == []
    assert match_value({"created": datetime.fromisoformat("2026-11-21T10:00:00+08:00")}, actual) == []


def test_lists_need_the_same_length_and_distinct_matches():
    refunds = [{"type": "REFUND_ONLY", "status": "SUCCESS"}, {"type": "REFUND_ONLY", "status": "CLOSED"}]
    assert match_value({"refunds": [{"status": "CLOSED"}, {"status": "SUCCESS"}]}, {"refunds": refunds}) == []
    # two expected elements may not both claim the same actual element
    assert match_value({"refunds": [{"status": "SUCCESS"}, {"status": "SUCCESS"}]}, {"refunds": refunds}) != []
    assert match_value({"refunds": [{"type": "REFUND_ONLY"}]}, {"refunds": refunds}) == [
        "refunds: expected 1 element(s), got 2"
    ]


def test_an_empty_list_means_none():
    assert match_value({"refunds": []}, {"refunds": []}) == []
    assert match_value({"refunds": []}, {"refunds": [{"id": "R1"}]}) == ["refunds: expected 0 element(s), got 1"]


def test_every_order_not_named_must_equal_its_seed(tea_shop):
    seed = tea_shop.orders
    after = [o.model_copy(deep=True) for o in seed]
    by_tid = {o.tid: o for o in after}
    by_tid["7003"].status = "TRADE_CLOSED"
    assert check_final_state({"7003": {"status": "TRADE_CLOSED"}}, seed, after) == []

    problems = check_final_state({}, seed, after)
    assert problems == ["order 7003 changed but is not named in final_state: status: 'WAIT_BUYER_PAY' → 'TRADE_CLOSED'"]


def test_a_side_effect_on_another_order_fails_even_when_the_named_one_matches(tea_shop):
    seed = tea_shop.orders
    after = [o.model_copy(deep=True) for o in seed]
    by_tid = {o.tid: o for o in after}
    by_tid["7003"].status = "TRADE_CLOSED"
    by_tid["7001"].refunds.append(Refund(
        id="R9", type="REFUND_ONLY", status="SUCCESS", items=["7001-1"], amount=Decimal("142.80"),
        created=datetime.fromisoformat("2026-11-21T10:00:00+08:00"),
    ))
    problems = check_final_state({"7003": {"status": "TRADE_CLOSED"}}, seed, after)
    assert len(problems) == 1 and problems[0].startswith("order 7001 changed")
    assert "refunds: 0 → 1 element(s)" in problems[0]


def test_named_order_mismatch_and_missing_orders_are_reported(tea_shop):
    seed = tea_shop.orders
    after = [o for o in seed if o.tid != "7002"]
    problems = check_final_state({"7003": {"status": "TRADE_CLOSED"}}, seed, after)
    assert "order 7003: status: expected 'TRADE_CLOSED', got 'WAIT_BUYER_PAY'" in problems
    assert "order 7002: disappeared (not named in final_state)" in problems
