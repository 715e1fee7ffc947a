"""The HTML report: summary, charts (inline SVG), per-suite table and failed transcripts.

One self-contained file: no scripts, no fonts or styles from the network.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Any

from bot.evaluation import charts
from bot.evaluation.results import CaseRecord, CaseRun, Report

_TEMPLATE = Path(__file__).parent / "data" / "report.html"


def render_html(report: Report) -> str:
    m = report.metrics
    title = f"xiaoer 对话评测报告{(' · ' + report.label) if report.label else ''}"
    meta = " · ".join(
        x for x in (f"target: {report.target}", f"repeat: {report.repeat}",
                    report.created and f"created: {report.created}") if x
    )
    return Template(_TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=escape(title),
        meta=escape(meta),
        summary=_summary(m),
        charts=_charts(m),
        suites=_suites(report),
        failures=_failures(report),
    )


def write_html(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v:.1%}"


def _ms(v: Any) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def _summary(m: dict[str, Any]) -> str:
    cases = m["cases"]
    cards = [
        ("cases passed" + (f" (pass^{m['repeat']})" if m.get("repeat", 1) > 1 else ""),
         f"{cases['passed']}/{cases['total']}", cases["rate"]),
        ("pass rate", _pct(cases["rate"]), cases["rate"]),
        ("intent accuracy", _pct(m["intent"]["accuracy"]), m["intent"]["accuracy"]),
        ("action accuracy", _pct(m["action"]["accuracy"]), m["action"]["accuracy"]),
        ("final-state accuracy", _pct(m["final_state"]["rate"]), m["final_state"]["rate"]),
        ("reply checks", _pct(m["reply_checks"]["rate"]), m["reply_checks"]["rate"]),
        ("handoff precision", _pct(m["handoff"]["precision"]), m["handoff"]["precision"]),
        ("handoff recall", _pct(m["handoff"]["recall"]), m["handoff"]["recall"]),
        ("guard violations", str(m["guard_violations"]["count"]),
         1.0 if m["guard_violations"]["count"] == 0 else 0.0),
        ("latency p50", _ms(m["latency_ms"]["p50"]), None),
        ("latency p95", _ms(m["latency_ms"]["p95"]), None),
        ("turns", str(m["turns"]["total"]), None),
    ]
    if m.get("repeat", 1) > 1:
        cards.insert(2, ("pass@1 (mean)", _pct(m.get("pass_at_1")), m.get("pass_at_1")))
    out = []
    for key, value, rate in cards:
        cls = "" if rate is None else (" good" if rate >= 0.9 else " bad" if rate < 0.7 else "")
        out.append(f'<div class="card{cls}"><div class="v">{escape(value)}</div>'
                   f'<div class="k">{escape(key)}</div></div>')
    return f'<div class="cards">{"".join(out)}</div>'


def _charts(m: dict[str, Any]) -> str:
    per = m["intent"]["per_intent"]
    bars = charts.accuracy_bars(
        "chart-intent-accuracy", "各意图准确率 Intent accuracy",
        [(k, v["accuracy"], v["total"]) for k, v in per.items()],
    )
    conf = m["intent"]["confusion"]
    heat = charts.confusion_heatmap("chart-confusion", "意图混淆矩阵 Confusion matrix",
                                    conf["labels"], conf["matrix"])
    hist = charts.histogram("chart-latency", "每轮延迟 Latency per turn", m["latency_ms"]["values"])
    return bars + heat + hist


def _suites(report: Report) -> str:
    rows = []
    for suite in report.suites:
        failed = [c.id for c in suite.cases if not c.passed]
        rate = suite.passed / len(suite.cases) if suite.cases else 0
        rows.append(
            f"<tr><td>{escape(suite.name)}</td><td>{escape(suite.file)}</td>"
            f"<td>{suite.passed}/{len(suite.cases)}</td><td>{rate:.0%}</td>"
            f"<td>{escape(', '.join(failed[:12]) + (' …' if len(failed) > 12 else ''))}</td></tr>"
        )
    return ("<table><tr><th>suite</th><th>file</th><th>passed</th><th>rate</th><th>failed cases</th></tr>"
            + "".join(rows) + "</table>")


def _failures(report: Report) -> str:
    failed = [c for c in report.cases() if not c.passed]
    if not failed:
        return '<p class="pass">全部通过 All cases passed.</p>'
    return "".join(_case(c) for c in failed)


def _case(case: CaseRecord) -> str:
    run = next(r for r in case.runs if not r.passed)
    runs = f" · {sum(r.passed for r in case.runs)}/{len(case.runs)} runs passed" if len(case.runs) > 1 else ""
    head = (f"<summary>{escape(case.suite)} / {escape(case.id)} "
            f'<span class="meta">buyer {escape(case.buyer)} · {escape(case.now)}{runs} · {escape(case.file)}</span>'
            "</summary>")
    return f'<details class="case" open>{head}{_transcript(run)}</details>'


def _transcript(run: CaseRun) -> str:
    parts = []
    if run.error:
        parts.append(f'<div class="state">{escape(run.error)}</div>')
    for t in run.turns:
        bad = t.failures()
        facts = f"intent={t.intent} action={t.action or 'none'} handoff={str(t.handoff).lower()} · {t.latency_ms:.0f} ms"
        why = "".join(f'<div class="why">✗ {escape(c.message or c.key)}</div>' for c in bad)
        violations = "".join(f'<div class="why">⚠ {escape(v)}</div>' for v in t.violations)
        parts.append(
            f'<div class="turn"><div><span class="bubble user">{t.index + 1}. {escape(t.user)}</span></div>'
            f'<div><span class="bubble bot{" failed" if bad else ""}">{escape(t.reply or t.error or "")}</span></div>'
            f'<div class="facts">{escape(facts)}</div>{why}{violations}</div>'
        )
    for p in run.final_state_problems:
        parts.append(f'<div class="state">final state ✗ {escape(p)}</div>')
    return "".join(parts)
