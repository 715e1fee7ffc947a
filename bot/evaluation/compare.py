"""A/B of two reports: which cases got better or worse, and how every figure moved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.evaluation.results import Report

# (label, path into metrics, higher is better)
HEADLINE: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("cases passed (pass^k)", ("cases", "rate"), True),
    ("runs passed (pass@1)", ("runs", "rate"), True),
    ("intent accuracy", ("intent", "accuracy"), True),
    ("action accuracy", ("action", "accuracy"), True),
    ("final-state accuracy", ("final_state", "rate"), True),
    ("reply checks", ("reply_checks", "rate"), True),
    ("handoff precision", ("handoff", "precision"), True),
    ("handoff recall", ("handoff", "recall"), True),
    ("guard violations", ("guard_violations", "count"), False),
    ("latency p50 ms", ("latency_ms", "p50"), False),
    ("latency p95 ms", ("latency_ms", "p95"), False),
)


@dataclass(frozen=True)
class CaseChange:
    key: str
    before: float | None  # pass rate in A (None: not in A)
    after: float | None
    detail: str = ""


@dataclass(frozen=True)
class MetricChange:
    name: str
    before: float | None
    after: float | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def verdict(self) -> str:
        d = self.delta
        if d is None or abs(d) < 1e-9:
            return "same"
        return "better" if (d > 0) == self.higher_is_better else "worse"


@dataclass
class Comparison:
    a_label: str
    b_label: str
    better: list[CaseChange] = field(default_factory=list)
    worse: list[CaseChange] = field(default_factory=list)
    still_failing: list[CaseChange] = field(default_factory=list)
    added: list[CaseChange] = field(default_factory=list)
    removed: list[CaseChange] = field(default_factory=list)
    unchanged_passing: int = 0
    metrics: list[MetricChange] = field(default_factory=list)
    intents: list[MetricChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def cases(items: list[CaseChange]) -> list[dict[str, Any]]:
            return [{"case": c.key, "before": c.before, "after": c.after, "detail": c.detail} for c in items]

        def figures(items: list[MetricChange]) -> list[dict[str, Any]]:
            return [{"name": m.name, "before": m.before, "after": m.after, "delta": m.delta,
                     "verdict": m.verdict} for m in items]

        return {
            "a": self.a_label, "b": self.b_label,
            "better": cases(self.better), "worse": cases(self.worse),
            "still_failing": cases(self.still_failing), "added": cases(self.added),
            "removed": cases(self.removed), "unchanged_passing": self.unchanged_passing,
            "metrics": figures(self.metrics), "intents": figures(self.intents),
        }


def load_report(path: str | Path) -> Report:
    return Report.model_validate_json(Path(path).read_text(encoding="utf-8"))


def compare_reports(a: Report, b: Report, *, a_label: str = "A", b_label: str = "B") -> Comparison:
    out = Comparison(a_label=a.label or a_label, b_label=b.label or b_label)
    before = {c.key: c for c in a.cases()}
    after = {c.key: c for c in b.cases()}
    for key, case in after.items():
        old = before.get(key)
        if old is None:
            out.added.append(CaseChange(key, None, case.pass_rate, case.first_failure()))
        elif case.pass_rate > old.pass_rate:
            out.better.append(CaseChange(key, old.pass_rate, case.pass_rate, old.first_failure()))
        elif case.pass_rate < old.pass_rate:
            out.worse.append(CaseChange(key, old.pass_rate, case.pass_rate, case.first_failure()))
        elif case.passed:
            out.unchanged_passing += 1
        else:
            out.still_failing.append(CaseChange(key, old.pass_rate, case.pass_rate, case.first_failure()))
    for key, case in before.items():
        if key not in after:
            out.removed.append(CaseChange(key, case.pass_rate, None))
    for name, path, higher in HEADLINE:
        out.metrics.append(MetricChange(name, _dig(a.metrics, path), _dig(b.metrics, path), higher))
    pa = a.metrics.get("intent", {}).get("per_intent", {})
    pb = b.metrics.get("intent", {}).get("per_intent", {})
    for intent in sorted(set(pa) | set(pb)):
        out.intents.append(MetricChange(intent, (pa.get(intent) or {}).get("accuracy"),
                                        (pb.get(intent) or {}).get("accuracy"), True))
    return out


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    cur: Any = data
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return float(cur) if isinstance(cur, (int, float)) and not isinstance(cur, bool) else None


