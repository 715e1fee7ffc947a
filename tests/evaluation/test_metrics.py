"""The report's figures: handoff precision/recall, intent confusion, pass^k, latency."""

from __future__ import annotations

from bot.evaluation.metrics import compute_metrics, handoff_metrics, intent_metrics, percentile
from bot.evaluation.results import CaseRecord, CaseRun, Check, Report, SuiteRecord, TurnRecord


def turn(expect: dict, **got) -> TurnRecord:
    return TurnRecord(index=0, user="x", expect=expect, **got)


def test_handoff_precision_and_recall():
    turns = [
        turn({"handoff": True}, handoff=True),    # tp
        turn({"handoff": True}, handoff=True),    # tp
        turn({"handoff": True}, handoff=False),   # fn
        turn({"handoff": False}, handoff=True),   # fp (explicitly not wanted)
        turn({}, handoff=True),                   # fp (nobody asked for it)
        turn({}, handoff=False),                  # tn
    ]
    m = handoff_metrics(turns)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (2, 2, 1, 1)
    assert m["precision"] == 0.5
    assert m["recall"] == 2 / 3


def test_no_handoffs_at_all_leaves_precision_undefined():
    m = handoff_metrics([turn({}, handoff=False)])
    assert m["precision"] is None and m["recall"] is None


def test_intent_accuracy_and_confusion_matrix():
    turns = [
        turn({"intent": "refund"}, intent="refund"),
        turn({"intent": "refund"}, intent="return"),
        turn({"intent": ["confirm", "other"]}, intent="other"),
        turn({"intent": "greeting"}, error="RuntimeError: boom"),
        turn({}, intent="chitchat"),  # no expectation: not counted
    ]
    m = intent_metrics(turns)
    assert (m["correct"], m["total"]) == (2, 4)
    assert m["confusion"]["matrix"] == {
        "refund": {"refund": 1, "return": 1},
        "other": {"other": 1},
        "greeting": {"(error)": 1},
    }
    assert m["per_intent"]["refund"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert "(error)" in m["confusion"]["labels"]


def test_percentiles_interpolate():
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == 95.05


def _case(cid: str, runs: list[bool]) -> CaseRecord:
    return CaseRecord(suite="s", file="s.yaml", id=cid, buyer="b01", now="2026-11-21T10:00:00+08:00",
                      tags=["sales"],
                      runs=[CaseRun(passed=p, final_state_passed=True, turns=[
                          TurnRecord(index=0, user="u", expect={"reply_any": ["a"]}, latency_ms=20.0,
                                     checks=[Check(key="reply_any", passed=p)])]) for p in runs])


def test_pass_hat_k_counts_a_case_only_when_every_run_passed():
    report = Report(target="t", repeat=3, suites=[SuiteRecord(name="s", file="s.yaml", shop="/x", cases=[
        _case("steady", [True, True, True]), _case("flaky", [True, False, True])])])
    m = compute_metrics(report)
    assert m["cases"] == {"passed": 1, "total": 2, "rate": 0.5}
    assert m["pass_at_1"] == (1 + 2 / 3) / 2
    assert m["reply_checks"]["passed"] == 5 and m["reply_checks"]["total"] == 6
    assert m["latency_ms"]["p50"] == 20.0 and m["latency_ms"]["n"] == 6
    assert m["tags"]["sales"] == {"passed": 1, "total": 2, "rate": 0.5}
