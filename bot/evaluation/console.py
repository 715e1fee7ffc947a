"""Terminal output of a run and of a comparison (rich tables)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from bot.evaluation.compare import Comparison
from bot.evaluation.results import Report, SuiteRecord


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v:.1%}"


def suite_table(suite: SuiteRecord, repeat: int = 1) -> Table:
    title = f"{suite.name}  ({suite.file})  {suite.passed}/{len(suite.cases)}"
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("case", overflow="fold")
    table.add_column("result")
    if repeat > 1:
        table.add_column("runs")
    table.add_column("turns", justify="right")
    table.add_column("first failure", overflow="fold")
    for case in suite.cases:
        cells = [case.id, Text("PASS", style="green") if case.passed else Text("FAIL", style="bold red")]
        if repeat > 1:
            cells.append(f"{sum(r.passed for r in case.runs)}/{len(case.runs)}")
        cells.append(str(len(case.runs[0].turns)) if case.runs else "0")
        cells.append(case.first_failure())
        table.add_row(*cells)
    return table


def failure_details(report: Report, limit: int = 40) -> Group:
    """Each failed case: the turn, what was expected, what the bot said."""
    items: list[Any] = []
    failed = [c for c in report.cases() if not c.passed]
    for case in failed[:limit]:
        run = next(r for r in case.runs if not r.passed)
        items.append(Text(f"✗ {case.suite} / {case.id}  (buyer {case.buyer}, {case.file})", style="bold red"))
        if run.error:
            items.append(Text(f"    {run.error}", style="red"))
        for turn in run.turns:
            bad = turn.failures()
            if not bad:
                continue
            items.append(Text(f"    turn {turn.index + 1} 买家: {turn.user}"))
            for check in bad:
                items.append(Text(f"      expected {check.key}: {check.expected!r} — {check.message}", style="yellow"))
            said = (turn.reply or turn.error or "").replace("\n", " ")
            items.append(Text(f"      bot [{turn.intent} / {turn.action or 'none'}"
                              f"{' / handoff' if turn.handoff else ''}]: {said[:300]}", style="dim"))
        for problem in run.final_state_problems:
            items.append(Text(f"    final state: {problem}", style="yellow"))
    if len(failed) > limit:
        items.append(Text(f"… and {len(failed) - limit} more failed cases (see the JSON/HTML report)"))
    return Group(*items)


def summary_table(report: Report) -> Table:
    m = report.metrics
    table = Table(title="summary", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    k = f" (pass^{report.repeat})" if report.repeat > 1 else ""
    rows = [
        (f"cases passed{k}", f"{m['cases']['passed']}/{m['cases']['total']}  {_pct(m['cases']['rate'])}"),
    ]
    if report.repeat > 1:
        rows.append(("pass@1 (mean)", _pct(m.get("pass_at_1"))))
    rows += [
        ("intent accuracy", f"{m['intent']['correct']}/{m['intent']['total']}  {_pct(m['intent']['accuracy'])}"),
        ("action accuracy", f"{m['action']['correct']}/{m['action']['total']}  {_pct(m['action']['accuracy'])}"),
        ("final-state accuracy", f"{m['final_state']['passed']}/{m['final_state']['total']}  {_pct(m['final_state']['rate'])}"),
        ("reply checks", f"{m['reply_checks']['passed']}/{m['reply_checks']['total']}  {_pct(m['reply_checks']['rate'])}"),
        ("handoff precision / recall", f"{_pct(m['handoff']['precision'])} / {_pct(m['handoff']['recall'])}"),
        ("guard violations in replies", str(m["guard_violations"]["count"])),
        ("latency p50 / p95", _latency(m["latency_ms"])),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def _latency(lat: dict[str, Any]) -> str:
    if lat["p50"] is None:
        return "—"
    return f"{lat['p50']:.0f} / {lat['p95']:.0f} ms"


def print_report(console: Console, report: Report, *, show_failures: bool = True) -> None:
    for suite in report.suites:
        console.print(suite_table(suite, report.repeat))
    if show_failures and any(not c.passed for c in report.cases()):
        console.rule("failures")
        console.print(failure_details(report))
    console.print(summary_table(report))


def print_comparison(console: Console, cmp: Comparison) -> None:
    table = Table(title=f"{cmp.a_label} → {cmp.b_label}", title_justify="left")
    for col in ("figure", cmp.a_label, cmp.b_label, "change"):
        table.add_column(col, justify="right" if col != "figure" else "left")
    for m in cmp.metrics + [i for i in cmp.intents if i.verdict != "same"]:
        style = {"better": "green", "worse": "red"}.get(m.verdict, "")
        name = m.name if m in cmp.metrics else f"intent {m.name}"
        table.add_row(name, _fig(m.name, m.before), _fig(m.name, m.after),
                      Text(_delta(m.name, m.delta) + f" {m.verdict}", style=style))
    console.print(table)
    for title, items, style in (
        ("better", cmp.better, "green"), ("worse", cmp.worse, "red"),
        ("still failing", cmp.still_failing, "yellow"), ("new cases", cmp.added, ""),
        ("removed cases", cmp.removed, "dim"),
    ):
        if items:
            console.print(Text(f"{title} ({len(items)})", style=f"bold {style}".strip()))
            for c in items:
                console.print(Text(f"  {c.key}  {_rate(c.before)} → {_rate(c.after)}  {c.detail}", style=style))
    console.print(f"unchanged and passing: {cmp.unchanged_passing}")


def _rate(v: float | None) -> str:
    return "—" if v is None else ("pass" if v == 1 else "fail" if v == 0 else f"{v:.0%}")


def _is_count(name: str) -> bool:
    return "ms" in name or "violations" in name


def _fig(name: str, v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.0f}" if _is_count(name) else f"{v:.1%}"


def _delta(name: str, d: float | None) -> str:
    if d is None:
        return ""
    return f"{d:+.0f}" if _is_count(name) else f"{d * 100:+.1f} pt"

