"""Comparing two reports says which cases got better or worse and how each figure moved."""

from __future__ import annotations

from bot.evaluation.compare import compare_reports
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import InProcessTarget

SUITE = """
cases:
  - id: greet
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
  - id: price
    buyer: b01
    turns: [{user: 龙井多少钱, expect: {intent: price_promotion, reply_contains: ["168.00"]}}]
  - id: human
    buyer: b01
    turns: [{user: 转人工, expect: {intent: human_agent, handoff: true}}]
"""


def test_compare_lists_better_worse_and_metric_moves(write_suite, tea_shop, fake):
    suite = load_suite(write_suite(SUITE))
    script_a = list(fake.script)
    # B: the greeting got worse, the handoff got fixed, the price stayed right
    script_b = [fake.Line("你好", "在的", "chitchat")] + list(fake.script)
    script_a = [fake.Line("人工", "请稍等", "human_agent")] + script_a
    a = run_suites([suite], lambda shop, now: InProcessTarget(fake.Services(tea_shop, script=script_a)))
    b = run_suites([suite], lambda shop, now: InProcessTarget(fake.Services(tea_shop, script=script_b)))

    cmp = compare_reports(a, b, a_label="before", b_label="after")
    assert [c.key for c in cmp.better] == ["测试::human"]
    assert [c.key for c in cmp.worse] == ["测试::greet"]
    assert cmp.worse[0].detail == "turn 1 「你好」: intent 'chitchat', expected 'greeting'"
    assert cmp.unchanged_passing == 1
    figures = {m.name: m for m in cmp.metrics}
    assert figures["handoff recall"].before == 0.0 and figures["handoff recall"].after == 1.0
    assert figures["handoff recall"].verdict == "better"
    assert figures["cases passed (pass^k)"].verdict == "same"
    intents = {m.name: m.verdict for m in cmp.intents}
    assert intents["greeting"] == "worse" and intents["human_agent"] == "same"
    data = cmp.to_dict()
    assert data["a"] == "before" and data["worse"][0]["case"] == "测试::greet"


def test_added_and_removed_cases(write_suite, tea_shop, fake):
    one = load_suite(write_suite(SUITE))
    other = load_suite(write_suite(SUITE.replace("id: greet", "id: greet-2"), name="b.yaml"))
    a = run_suites([one], lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    b = run_suites([other], lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    cmp = compare_reports(a, b)
    assert [c.key for c in cmp.added] == ["测试::greet-2"]
    assert [c.key for c in cmp.removed] == ["测试::greet"]
