"""The figures of a run, computed from its records alone (so a stored JSON report can be re-read).

Counting rules:
* cases passed uses pass^k: with ``repeat`` K a case passes only when all K runs pass;
  every other figure counts every run's turns.
* intent / action accuracy count turns whose expectation names an intent / action; a turn
  that crashed counts as wrong.
* handoff precision / recall count every turn: a turn expecting ``handoff: true`` is a
  positive, every other turn (``false`` or not given) a negative — a handoff nobody asked
  for is a false positive.
* final-state accuracy counts runs (every case checks its orders).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any, Iterable

from bot.evaluation.results import Report, TurnRecord

ERROR_LABEL = "(error)"


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def compute_metrics(report: Report) -> dict[str, Any]:
    cases = report.cases()
    runs = [r for c in cases for r in c.runs]
    turns = [t for r in runs for t in r.turns]
    metrics: dict[str, Any] = {
        "cases": _rate(sum(c.passed for c in cases), len(cases)),
        "runs": _rate(sum(r.passed for r in runs), len(runs)),
        "repeat": report.repeat,
        "turns": {"total": len(turns), "errors": sum(t.error is not None for t in turns)},
        "intent": intent_metrics(turns),
        "action": _keyed_accuracy(turns, "action"),
        "final_state": _rate(sum(r.final_state_passed for r in runs), len(runs)),
        "reply_checks": _reply_checks(turns),
        "handoff": handoff_metrics(turns),
        "guard_violations": _violations(turns),
        "latency_ms": latency_metrics(t.latency_ms for t in turns if t.error is None and t.kind == "user"),
        "suites": [
            {"name": s.name, "file": s.file, **_rate(s.passed, len(s.cases))} for s in report.suites
        ],
        "tags": _per_tag(report),
    }
    metrics["pass_hat_k"] = metrics["cases"]["rate"]
    metrics["pass_at_1"] = (
        sum(c.pass_rate for c in cases) / len(cases) if cases else None
    )
    return metrics


def _rate(passed: int, total: int) -> dict[str, Any]:
    return {"passed": passed, "total": total, "rate": ratio(passed, total)}


def intent_metrics(turns: Iterable[TurnRecord]) -> dict[str, Any]:
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    correct = total = 0
    for t in turns:
        expected = t.expect.get("intent")
        if not expected:
            continue
        options = expected if isinstance(expected, list) else [expected]
        actual = t.intent if t.error is None and t.intent else ERROR_LABEL
        hit = actual in options
        label = actual if hit else options[0]
        confusion[label][actual] += 1
        total += 1
        correct += hit
    per_intent = {
        label: {"correct": row[label], "total": sum(row.values()),
                "accuracy": ratio(row[label], sum(row.values()))}
        for label, row in sorted(confusion.items())
    }
    labels = sorted(set(confusion) | {a for row in confusion.values() for a in row})
    return {
        "correct": correct,
        "total": total,
        "accuracy": ratio(correct, total),
        "per_intent": per_intent,
        "confusion": {"labels": labels, "matrix": {k: dict(v) for k, v in sorted(confusion.items())}},
    }


def _keyed_accuracy(turns: Iterable[TurnRecord], key: str) -> dict[str, Any]:
    checks = [c for t in turns for c in t.checks if c.key == key]
    crashed = [t for t in turns if t.error is not None and key in t.expect]
    correct = sum(c.passed for c in checks)
    total = len(checks) + len(crashed)
    return {"correct": correct, "total": total, "accuracy": ratio(correct, total)}


def _reply_checks(turns: Iterable[TurnRecord]) -> dict[str, Any]:
    keys = ("reply_contains", "reply_any", "reply_not_contains")
    checks = [c for t in turns for c in t.checks if c.key in keys]
    crashed = sum(1 for t in turns if t.error is not None for k in keys if k in t.expect)
    by_key = {
        k: _rate(sum(c.passed for c in checks if c.key == k), sum(1 for c in checks if c.key == k))
        for k in keys
    }
    return {**_rate(sum(c.passed for c in checks), len(checks) + crashed), "by_key": by_key}


def handoff_metrics(turns: Iterable[TurnRecord]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    for t in turns:
        expected = t.expect.get("handoff") is True
        actual = t.handoff and t.error is None
        if expected and actual:
            tp += 1
        elif actual:
            fp += 1
        elif expected:
            fn += 1
        else:
            tn += 1
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn)}


def _violations(turns: Iterable[TurnRecord]) -> dict[str, Any]:
    flagged = [t for t in turns if t.violations]
    kinds: Counter[str] = Counter(v.split(":", 1)[0] for t in flagged for v in t.violations)
    return {
        "count": sum(len(t.violations) for t in flagged),
        "replies": len(flagged),
        "by_kind": dict(kinds.most_common()),
        "examples": [{"user": t.user, "reply": t.reply, "violations": t.violations} for t in flagged[:20]],
    }


def latency_metrics(values: Iterable[float]) -> dict[str, Any]:
    data = [float(v) for v in values]
    return {
        "n": len(data),
        "p50": percentile(data, 50),
        "p95": percentile(data, 95),
        "mean": sum(data) / len(data) if data else None,
        "max": max(data) if data else None,
        "values": [round(v, 2) for v in data],
    }


def _per_tag(report: Report) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in report.cases():
        for tag in case.tags:
            counts[tag][0] += case.passed
            counts[tag][1] += 1
    return {tag: _rate(p, n) for tag, (p, n) in sorted(counts.items())}
