"""The reply audit finds internal ids and agent usernames in buyer-visible text."""

from __future__ import annotations

from bot.evaluation.audit import RAW_ID, guard_audit, raw_ids
from bot.shop import Shop
from bot.turns import TurnResult


def test_raw_ids_and_usernames_are_found() -> None:
    text = "已为您登记催发货工单 Tf2bbb645cecf4f52，售后单 Rde4c801a08ec47d3，客服 demo 为您服务"
    assert raw_ids(text, ["demo"]) == ["Tf2bbb645cecf4f52", "Rde4c801a08ec47d3", "demo"]
    assert raw_ids("会话 3f2b9c1e-8a7d-4e2f-9b1c-0d2e3f4a5b6c") == ["3f2b9c1e-8a7d-4e2f-9b1c-0d2e3f4a5b6c"]


def test_what_a_buyer_can_read_out_is_no_raw_id() -> None:
    text = "订单 7001（商品 T101）由顺丰 SF1234567890 发出，售后单 R1，投诉可拨12315，人工客服 demonstration"
    assert raw_ids(text, ["demo"]) == []


def test_the_audit_reports_a_raw_id(demo_shop: Shop) -> None:
    result = TurnResult(conversation_id="c1", turn_id="t1", reply="亲，已为您登记工单 Tf2bbb645cecf4f52", intent="logistics")
    assert any(v.startswith(f"{RAW_ID}:") for v in guard_audit(result, demo_shop, "b01"))


def test_a_raw_id_in_a_reply_fails_the_case(write_suite, tea_shop, fake) -> None:
    from bot.evaluation.audit import guard_audit
    from bot.evaluation.runner import run_suites
    from bot.evaluation.suite import load_suite
    from bot.evaluation.target import InProcessTarget

    suite = load_suite(write_suite("""
cases:
  - id: leaks-an-id
    buyer: b01
    turns:
      - {user: 催一下发货, expect: {intent: logistics}}
  - id: reads-out-an-order
    buyer: b01
    turns:
      - {user: 查下订单, expect: {intent: order_status}}
"""))
    script = [
        fake.Line("催一下", "亲，已为您登记催发货工单 Tf2bbb645cecf4f52", "logistics"),
        fake.Line("查下订单", "亲，订单 7001 正在备货", "order_status"),
    ]
    report = run_suites([suite], lambda shop, now: InProcessTarget(fake.Services(tea_shop, script=script)),
                        audit=guard_audit)
    passed = {c.id: c.passed for c in report.cases()}
    assert passed == {"leaks-an-id": False, "reads-out-an-order": True}
