"""Transcript benchmarks (``xiaoer eval``) and the agent-feedback report (``xiaoer report
suggestions``, registered with the other reports in :mod:`bot.cli.report_cmds`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import click
import typer
from typer.core import TyperGroup

EXIT_BELOW_MIN_PASS = 1
EXIT_BAD_INPUT = 2
EXIT_NO_TARGET = 3


class _RunByDefault(TyperGroup):
    """``xiaoer eval PATH...`` runs suites; ``xiaoer eval compare A B`` compares reports."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def run(
    paths: list[Path] = typer.Argument(..., help="suite files or folders of suites", show_default=False),
    shop: Optional[Path] = typer.Option(None, "--shop", help="run every suite against this shop directory"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the JSON report here"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="write the HTML report here"),
    min_pass: Optional[float] = typer.Option(
        None, "--min-pass", min=0.0, max=1.0, help="exit 1 when fewer cases pass (0..1)"
    ),
    repeat: int = typer.Option(1, "--repeat", min=1, help="run each case K times; it passes if all K pass (pass^k)"),
    url: Optional[str] = typer.Option(None, "--url", help="a server started with `xiaoer serve --eval-mode`"),
    failed_out: Optional[Path] = typer.Option(
        None, "--failed", help="write failed cases as a suite here (default: failed.yaml next to --json)"
    ),
    label: str = typer.Option("", "--label", help="a name for this run in reports and comparisons"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar and no per-case tables"),
) -> None:
    """Replay transcript suites and score the bot (in process, or against --url)."""
    from datetime import datetime, timezone

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.evaluation.audit import guard_audit
    from bot.evaluation.console import print_report
    from bot.evaluation.failed import write_failed
    from bot.evaluation.html_report import write_html
    from bot.evaluation.runner import run_suites
    from bot.evaluation.suite import SuiteInvalid, load_suites
    from bot.evaluation.target import TargetError

    console = Console(stderr=False)
    err = Console(stderr=True)
    skipped: list[Path] = []
    try:
        suites = load_suites(paths, shop_override=shop, skipped=skipped)
    except SuiteInvalid as exc:
        err.print(f"[bold red]invalid suite — nothing was run[/] ({len(exc.problems)} problem(s)):")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    for path in skipped:
        err.print(f"[dim]not a suite, skipped: {path}[/]")
    total = sum(len(s.cases) for s in suites) * repeat
    make_target = _target_factory(url, err)
    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, disable=quiet, transient=True,
    )
    with progress:
        task = progress.add_task("cases", total=total)
        try:
            report = run_suites(
                suites, make_target, repeat=repeat, audit=guard_audit,
                on_case=lambda record: progress.update(
                    task, advance=len(record.runs), description=f"{record.suite[:24]} / {record.id[:24]}"
                ),
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"), label=label,
            )
        except TargetError as exc:
            err.print(f"[bold red]cannot reach the bot[/]: {exc}", highlight=False)
            raise typer.Exit(EXIT_NO_TARGET) from None

    if quiet:
        from bot.evaluation.console import summary_table

        console.print(summary_table(report))
    else:
        print_report(console, report)

    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(report.model_dump_json(indent=1), encoding="utf-8")
        console.print(f"JSON report: {json_out}")
        failed_out = failed_out or json_out.with_name("failed.yaml")
    if html_out is not None:
        write_html(report, html_out)
        console.print(f"HTML report: {html_out}")
    if failed_out is not None:
        written = write_failed(report, failed_out)
        for path in written:
            console.print(f"failed cases (re-run with `xiaoer eval {path}`): {path}")

    rate = report.metrics["cases"]["rate"] or 0.0
    if min_pass is not None and rate < min_pass:
        err.print(f"[bold red]pass rate {rate:.1%} is below --min-pass {min_pass:.1%}[/]")
        raise typer.Exit(EXIT_BELOW_MIN_PASS)


def _target_factory(url: str | None, err: Any) -> Any:
    from bot.errors import ConfigError
    from bot.evaluation.target import HttpTarget, InProcessTarget, TargetError

    if url is not None:
        def over_http(shop: Any, now: Any) -> HttpTarget:
            target = HttpTarget(url)
            target.check_shop(shop)
            return target

        return over_http

    def in_process(shop: Any, now: Any) -> InProcessTarget:
        with err.status(f"building the bot for {shop.info.name} ({shop.root})…"):
            try:
                return InProcessTarget.build(shop, now)
            except (ImportError, ConfigError) as exc:
                raise TargetError(f"the bot could not be built: {type(exc).__name__}: {exc}") from exc

    return in_process


def compare(
    a: Path = typer.Argument(..., help="the baseline JSON report", exists=True, dir_okay=False),
    b: Path = typer.Argument(..., help="the JSON report to compare with it", exists=True, dir_okay=False),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the comparison as JSON"),
) -> None:
    """What got better and worse from report A to report B, case by case."""
    from rich.console import Console

    from bot.evaluation.compare import compare_reports, load_report
    from bot.evaluation.console import print_comparison

    try:
        ra, rb = load_report(a), load_report(b)
    except (ValueError, OSError) as exc:
        typer.echo(f"cannot read report: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    cmp = compare_reports(ra, rb, a_label=a.stem, b_label=b.stem)
    print_comparison(Console(), cmp)
    if json_out is not None:
        json_out.write_text(json.dumps(cmp.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


def suggestions(
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the figures as JSON"),
) -> None:
    """Agent feedback on drafts: acceptance, edit rate, edit distance, rejection reasons per intent.

    Reads the suggestions stored by the service (``XIAOER_DATA_DIR`` / ``XIAOER_DATABASE_URL``).
    """
    from rich.console import Console

    from bot.config import Settings
    from bot.evaluation.feedback import feedback_table, load_feedback

    settings = Settings()
    try:
        figures = load_feedback(settings)
    except FileNotFoundError as exc:
        typer.echo(f"no stored suggestions: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    Console().print(feedback_table(figures))
    if json_out is not None:
        json_out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(
        cls=_RunByDefault,
        no_args_is_help=True,
        help=(
            "Transcript benchmarks. `xiaoer eval PATH...` replays suites (same as `eval run`); "
            "`xiaoer eval compare A.json B.json` shows what got better and worse."
        ),
    )
    eval_app.command("run")(run)
    eval_app.command("compare")(compare)
    app.add_typer(eval_app, name="eval")
