"""``wait:``, ``staff:`` and ``outbound_*`` in suites: parsed by the loader, run by the runner
in process and against a server with the same results, and able to fail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.api.app import create_app
from bot.config import Settings
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import SuiteInvalid, load_suite
from bot.evaluation.target import HttpTarget, InProcessTarget

from ..live_server import serving

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "outreach_shop"
HEAD = f"suite: 主动消息\nshop: {SHOP.as_posix()}\nnow: 2026-11-21T09:50:00+08:00\ncases:\n"

SUITE = HEAD + """
  - id: remind-then-ship
    buyer: c01
    turns:
      - wait: 15m
        expect: {outbound: none}
      - wait: 10m
        expect: {outbound_contains: ["9001", "满199减15店铺券"]}
      - staff: {action: order.ship, tid: "9001", carrier: 顺丰速运, tracking_no: SF100200}
        expect: {action: none, reply_contains: ["待付款"], outbound: none}
      - user: 9001还没付款，先不要了
        expect: {intent: cancel_order}
      - user: 确认
        expect: {action: order.cancel, outbound: none}
    final_state: {orders: {"9001": {status: TRADE_CLOSED}}}
  - id: ship-notice
    buyer: c02
    now: 2026-11-21T10:30:00+08:00
    turns:
      - staff: {action: order.ship, tid: "9005", carrier: 顺丰速运, tracking_no: SF100200}
        expect: {action: order.ship, outbound_contains: ["SF100200"]}
    final_state: {orders: {"9005": {status: WAIT_BUYER_CONFIRM_GOODS}}}
  - id: expects-what-was-not-sent
    buyer: c03
    turns:
      - wait: 1m
        expect: {outbound_contains: ["生日快乐"]}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_loader_reads_the_three_kinds_of_turn(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, SUITE))
    turns = suite.cases[0].case.turns
    assert [t.kind for t in turns] == ["wait", "wait", "staff", "user", "user"]
    assert turns[0].wait_delta == timedelta(minutes=15) and turns[0].expect.outbound == "none"
    assert turns[2].staff is not None and turns[2].staff.action == "order.ship"
    assert turns[2].label == "staff: order.ship 9001"


@pytest.mark.parametrize(
    ("turn", "says"),
    [
        ("{wait: 45}", "needs a unit"),
        ("{wait: 45x}", "not a duration"),
        ("{wait: 0m}", "forward"),
        ("{user: 你好, wait: 5m}", "exactly one of user, wait or staff"),
        ("{expect: {intent: greeting}}", "exactly one of user, wait or staff"),
        ("{wait: 5m, expect: {intent: greeting}}", "only expect outbound"),
        ("{staff: {action: order.pay, tid: '9001'}}", "order.pay"),
        ("{staff: {action: order.ship, tid: '9005', carrier: 顺丰速运}}", "tracking_no"),
        ("{staff: {action: return.agree, tid: '9008'}, expect: {intent: confirm}}", "intent"),
        ("{staff: {action: return.agree, tid: '9008'}, expect: {action: order.cancel}}", "order.cancel"),
        ("{user: 同意吧, expect: {action: return.agree}}", "staff action"),
        ("{wait: 5m, expect: {outbound: none, outbound_contains: [x]}}", "outbound: none"),
        ("{wait: 5m, expect: {outbound: some}}", "outbound"),
    ],
)
def test_the_loader_refuses_a_bad_turn_and_says_where(tmp_path: Path, turn: str, says: str) -> None:
    body = HEAD + f"  - id: bad\n    buyer: c01\n    turns:\n      - {turn}\n"
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(write(tmp_path, body))
    text = str(caught.value)
    assert "case 'bad'" in text and says in text, text


def run_in_process(path: Path):
    suite = load_suite(path)
    return run_suites([suite], lambda shop, now: InProcessTarget.build(shop, now))


def test_the_runner_moves_the_clock_acts_for_staff_and_judges_outbound(tmp_path: Path) -> None:
    report = run_in_process(write(tmp_path, SUITE))
    cases = {c.id: c for c in report.cases()}
    assert cases["remind-then-ship"].passed, cases["remind-then-ship"].first_failure()
    assert cases["ship-notice"].passed, cases["ship-notice"].first_failure()
    turns = cases["remind-then-ship"].runs[0].turns
    assert turns[1].outbound and "9001" in turns[1].outbound[0]
    assert turns[2].kind == "staff" and turns[2].refused is True and turns[2].action is None
    assert "待付款" in turns[2].reply
    shipped = cases["ship-notice"].runs[0].turns[0]
    assert shipped.refused is False and shipped.action == "order.ship"

    failed = cases["expects-what-was-not-sent"]
    assert not failed.passed and "unprompted messages lack ['生日快乐']" in failed.first_failure()
    assert report.metrics["turns"]["total"] == 7
    assert report.metrics["latency_ms"]["n"] == 2  # the bot's latency counts buyer turns only


def test_a_server_in_eval_mode_gives_the_same_results(tmp_path: Path) -> None:
    path = write(tmp_path, SUITE)
    local = run_in_process(path)
    settings = Settings(shop_dir=SHOP, data_dir=tmp_path / "server", database_url="sqlite://")
    with serving(create_app(settings, eval_mode=True)) as url:
        def over_http(shop, now):
            target = HttpTarget(url)
            target.check_shop(shop)
            return target

        remote = run_suites([load_suite(path)], over_http)

    def outline(report):
        return [(c.id, c.passed, [(t.kind, t.reply, t.action, t.refused, t.outbound, [k.passed for k in t.checks])
                                  for t in c.runs[0].turns]) for c in report.cases()]

    assert outline(remote) == outline(local)
