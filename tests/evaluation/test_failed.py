"""Failed cases are written as a suite that loads and re-runs as is."""

from __future__ import annotations

from bot.evaluation.failed import write_failed
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import InProcessTarget

SUITE = """
cases:
  - id: ok
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
  - id: broken
    buyer: b01
    now: 2026-11-25T09:00:00+08:00
    tags: [cancel]
    turns:
      - {user: 乱取消, expect: {action: order.cancel, reply_not_contains: [微信]}}
    final_state: {orders: {"7003": {status: TRADE_CLOSED, total_paid: 98.00}}}
"""


def test_failed_cases_rerun_from_the_written_suite(write_suite, tea_shop, fake, tmp_path):
    report = run_suites([load_suite(write_suite(SUITE))],
                        lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    out = tmp_path / "out" / "failed.yaml"
    (written,) = write_failed(report, out)
    assert written == out

    again = load_suite(out)
    (case,) = again.cases
    assert case.id == "broken"
    assert case.now.isoformat() == "2026-11-25T09:00:00+08:00"
    assert case.case.tags == ["cancel"]
    assert case.case.final_state.orders["7003"]["status"] == "TRADE_CLOSED"
    rerun = run_suites([again], lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    assert [c.passed for c in rerun.cases()] == [False]


def test_nothing_is_written_when_everything_passed(write_suite, tea_shop, fake, tmp_path):
    report = run_suites([load_suite(write_suite(SUITE.split("  - id: broken")[0]))],
                        lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    assert write_failed(report, tmp_path / "failed.yaml") == []
    assert not (tmp_path / "failed.yaml").exists()
