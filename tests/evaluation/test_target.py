"""In process and against a server, the same suite gives the same results."""

from __future__ import annotations

import pytest

from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import HttpTarget, InProcessTarget, TargetError

SUITE = """
cases:
  - id: cancel-unpaid
    buyer: b01
    turns:
      - {user: 那个还没付款的单子不要了, expect: {intent: cancel_order, reply_contains: ["7003"]}}
      - {user: 嗯确认, expect: {intent: confirm, action: order.cancel}}
    final_state: {orders: {"7003": {status: TRADE_CLOSED}}}
  - id: side-effect
    buyer: b01
    turns: [{user: 乱取消, expect: {action: order.cancel}}]
  - id: crash
    buyer: b02
    turns: [{user: 崩溃}, {user: 我要人工, expect: {handoff: true, intent: human_agent}}]
"""


def outline(report):
    """Everything that must not depend on how the bot was reached."""
    return [
        (c.id, c.passed, [(t.reply, t.intent, t.action, t.handoff, [k.passed for k in t.checks], t.error is None)
                          for r in c.runs for t in r.turns],
         [r.final_state_problems for r in c.runs])
        for c in report.cases()
    ]


def test_http_target_gives_the_same_results_as_in_process(write_suite, tea_shop, fake, eval_server):
    suite = load_suite(write_suite(SUITE))
    local = run_suites([suite], lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    url, _ = eval_server

    def over_http(shop, now):
        target = HttpTarget(url)
        target.check_shop(shop)
        return target

    remote = run_suites([suite], over_http)
    assert outline(remote) == outline(local)
    assert remote.target == url and local.target == "in-process"
    assert [c.passed for c in remote.cases()] == [True, False, False]


def test_http_target_refuses_a_server_of_another_shop(tea_shop, eval_server):
    url, _ = eval_server
    other = tea_shop.model_copy(update={"info": tea_shop.info.model_copy(update={"name": "棉麻小铺"})})
    with pytest.raises(TargetError, match="serves shop '山语茶舍'"):
        HttpTarget(url).check_shop(other)


def test_in_process_target_needs_the_services_interface():
    with pytest.raises(TypeError, match="reset_for_case"):
        InProcessTarget(object())
    with pytest.raises(ValueError):
        HttpTarget("localhost:8000")
