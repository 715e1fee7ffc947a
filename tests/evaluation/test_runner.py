"""The runner replays cases on a freshly reset bot and records what passed and why not."""

from __future__ import annotations

from bot.evaluation.audit import guard_audit
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import InProcessTarget

SUITE = """
cases:
  - id: cancel-unpaid
    buyer: b01
    turns:
      - user: 那个还没付款的单子不要了
        expect: {intent: cancel_order, reply_contains: ["7003"], handoff: false}
      - user: 嗯确认
        expect: {intent: confirm, action: order.cancel}
    final_state:
      orders:
        "7003": {status: TRADE_CLOSED, refunds: []}
  - id: price
    buyer: b02
    turns:
      - user: 龙井多少钱
        expect: {intent: price_promotion, action: none, reply_contains: ["168.00"]}
  - id: wrong-order-cancelled
    buyer: b01
    turns:
      - user: 乱取消
        expect: {action: order.cancel}
  - id: wrong-intent
    buyer: b01
    now: 2026-11-22T08:00:00+08:00
    turns:
      - user: 你好
        expect: {intent: chitchat}
      - user: 我要人工
        expect: {intent: human_agent, handoff: true}
"""


def run(suite_path, services, **kw):
    suite = load_suite(suite_path)
    return run_suites([suite], lambda shop, now: InProcessTarget(services), **kw)


def test_passing_and_failing_cases_are_told_apart(write_suite, tea_shop, fake):
    services = fake.Services(tea_shop)
    report = run(write_suite(SUITE), services)
    result = {c.id: c.passed for c in report.cases()}
    assert result == {"cancel-unpaid": True, "price": True, "wrong-order-cancelled": False, "wrong-intent": False}
    assert services.resets == 4  # a fresh order backend per case
    assert report.metrics["cases"] == {"passed": 2, "total": 4, "rate": 0.5}


def test_a_side_effect_on_an_unnamed_order_fails_the_case(write_suite, tea_shop, fake):
    report = run(write_suite(SUITE), fake.Services(tea_shop))
    case = next(c for c in report.cases() if c.id == "wrong-order-cancelled")
    (run_,) = case.runs
    assert all(t.passed for t in run_.turns)
    assert not run_.final_state_passed
    assert run_.final_state_problems[0].startswith("order 7001 changed but is not named")


def test_a_failed_turn_keeps_what_was_expected_and_what_the_bot_said(write_suite, tea_shop, fake):
    report = run(write_suite(SUITE), fake.Services(tea_shop))
    case = next(c for c in report.cases() if c.id == "wrong-intent")
    first, second = case.runs[0].turns
    assert not first.passed and second.passed
    (check,) = first.failures()
    assert (check.key, check.expected) == ("intent", "chitchat")
    assert first.reply == "亲，您好，我是小山～" and first.intent == "greeting"
    assert case.now == "2026-11-22T08:00:00+08:00"


def test_the_clock_is_set_per_case(write_suite, tea_shop, fake):
    services = fake.Services(tea_shop)
    run(write_suite(SUITE), services)
    assert services.now.isoformat() == "2026-11-22T08:00:00+08:00"  # the last case's own clock


def test_a_crashing_turn_fails_its_case_and_the_run_goes_on(write_suite, tea_shop, fake):
    path = write_suite("""
cases:
  - id: crash
    buyer: b01
    turns:
      - user: 崩溃
      - user: 你好
        expect: {intent: greeting}
  - id: after
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
""")
    report = run(path, fake.Services(tea_shop))
    crash, after = report.cases()
    assert not crash.passed and after.passed
    assert crash.runs[0].turns[0].error == "RuntimeError: the bot fell over"
    assert crash.runs[0].turns[1].passed
    assert report.metrics["turns"]["errors"] == 1


def test_repeat_gives_pass_hat_k(write_suite, tea_shop, fake):
    path = write_suite("""
cases:
  - id: greet
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
""")
    report = run(path, fake.Services(tea_shop, flaky=True), repeat=4)
    (case,) = report.cases()
    assert [r.passed for r in case.runs] == [True, False, True, False]
    assert not case.passed  # pass^4 needs every run
    assert report.metrics["pass_hat_k"] == 0.0
    assert report.metrics["pass_at_1"] == 0.5
    assert report.metrics["runs"] == {"passed": 2, "total": 4, "rate": 0.5}


def test_guard_violations_in_replies_are_counted(write_suite, tea_shop, fake):
    path = write_suite("""
cases:
  - id: extortion
    buyer: b01
    turns: [{user: 不退钱就给差评, expect: {handoff: true}}]
""")
    report = run(path, fake.Services(tea_shop), audit=guard_audit)
    (turn,) = report.cases()[0].runs[0].turns
    assert any(v.startswith("off_platform") for v in turn.violations)
    assert report.metrics["guard_violations"]["count"] >= 1
    assert "off_platform" in report.metrics["guard_violations"]["by_kind"]


def test_repeating_what_the_buyer_typed_is_not_a_leak_but_another_buyers_data_is(write_suite, tea_shop, fake):
    script = [
        fake.Line("8001", "亲，没有查到订单 8001 哦", "order_status"),
        fake.Line("地址", "亲，李雷的地址是解放路1号", "other"),
    ]
    path = write_suite("""
cases:
  - id: echo
    buyer: b01
    turns: [{user: 查一下订单8001}, {user: 那他的地址呢}]
""")
    report = run(path, fake.Services(tea_shop, script=script), audit=guard_audit)
    echo, address = report.cases()[0].runs[0].turns
    assert echo.violations == []
    assert address.violations and address.violations[0].startswith("data_leak")
