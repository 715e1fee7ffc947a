"""Shop reports (``xiaoer report ops``) and chat-log review (``xiaoer report review`` and
``xiaoer report export``) over the data the service stored."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from bot.cli import eval_cmds

if TYPE_CHECKING:
    from bot.reports.service import ReportService
    from bot.reports.window import ReportWindow

EXIT_BAD_INPUT = 2

SINCE_HELP = "first day (YYYY-MM-DD, shop time) or moment (ISO 8601) to count; default: the beginning"
UNTIL_HELP = "last day counted (YYYY-MM-DD, included) or moment (ISO 8601, excluded); default: now"


class Format(str, Enum):
    html = "html"
    csv = "csv"
    json = "json"


class Kind(str, Enum):
    not_converted = "not_converted"
    draft_rejected = "draft_rejected"
    draft_edited = "draft_edited"


def _service(shop_dir: Path | None, data_dir: Path | None) -> ReportService:
    from bot.clock import SystemClock
    from bot.config import Settings
    from bot.errors import ShopInvalid
    from bot.orders.sql import SqlOrderBackend
    from bot.reports.service import ReportService
    from bot.shop import load_shop
    from bot.storage.db import make_engine

    overrides: dict[str, Path] = {}
    if shop_dir is not None:
        overrides["shop_dir"] = shop_dir
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    url = settings.sqlalchemy_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        typer.echo(f"✗ no data yet: {url.removeprefix('sqlite:///')} does not exist", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        shop = load_shop(settings.shop_dir)
    except ShopInvalid as exc:
        typer.echo(f"✗ the shop does not load:\n{exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    engine = make_engine(url)
    return ReportService(engine, shop, SqlOrderBackend(engine, shop), SystemClock(shop.tz))


def _window(service: ReportService, since: str | None, until: str | None) -> ReportWindow:
    from bot.errors import TellCustomer

    try:
        window = service.window(since, until)
    except TellCustomer as exc:
        typer.echo(f"✗ {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if window.backwards:
        typer.echo("! 结束时间早于开始时间：这个区间里没有会话", err=True)
    return window


SHOP_OPT = typer.Option(None, "--shop", help="shop directory (default XIAOER_SHOP_DIR or knowledge/)")
DATA_OPT = typer.Option(None, "--data-dir", help="where the service keeps its SQLite file (default XIAOER_DATA_DIR or ./var)")


def ops(
    since: Optional[str] = typer.Option(None, "--since", help=SINCE_HELP),
    until: Optional[str] = typer.Option(None, "--until", help=UNTIL_HELP),
    fmt: Format = typer.Option(Format.html, "--format", "-f", help="html (with charts), csv (one row per day and agent) or json"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="write the report here (default: print it)"),
    shop: Optional[Path] = SHOP_OPT,
    data_dir: Optional[Path] = DATA_OPT,
) -> None:
    """运营报告: 询单转化率, first-response and average response time of the bot and of agents,
    satisfaction, complaint and handoff rates and draft acceptance — for the window, per day
    and per agent. Every figure is defined in docs/reports.md.

    Example: xiaoer report ops --since 2026-11-20 --until 2026-11-21 --format html --out ops.html
    """
    from bot.reports.csvfile import render_csv
    from bot.reports.html import cards, render_html

    service = _service(shop, data_dir)
    report = service.report(_window(service, since, until))
    text = {
        Format.html: lambda: render_html(report),
        Format.csv: lambda: render_csv(report),
        Format.json: lambda: report.model_dump_json(indent=1),
    }[fmt]()
    if out is None:
        typer.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    # A BOM lets spreadsheet programs read the Chinese headers of the CSV as UTF-8.
    out.write_text(text, encoding="utf-8-sig" if fmt is Format.csv else "utf-8")
    for name, value, _ in cards(report):
        typer.echo(f"{name}：{value}")
    typer.echo(f"{fmt.value} report: {out}")


def review(
    since: Optional[str] = typer.Option(None, "--since", help=SINCE_HELP),
    until: Optional[str] = typer.Option(None, "--until", help=UNTIL_HELP),
    kind: Optional[list[Kind]] = typer.Option(None, "--kind", help="only these (repeatable): not_converted, draft_rejected, draft_edited"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the list, with transcripts, as JSON"),
    shop: Optional[Path] = SHOP_OPT,
    data_dir: Optional[Path] = DATA_OPT,
) -> None:
    """复盘: inquiries that did not convert and drafts agents rejected or heavily edited, with
    what went wrong. Export the ones to keep with `xiaoer report export ID... --out F.yaml`."""
    import json

    from bot.review.findings import KIND_ZH

    service = _service(shop, data_dir)
    items = service.review(_window(service, since, until), kinds={k.value for k in kind} if kind else None)
    typer.echo(f"复盘 · {len(items)} 段对话")
    for i in items:
        kinds = "、".join(KIND_ZH[k] for k in i.kinds)
        typer.echo(f"\n{i.conversation_id} · {i.buyer_nick} · {i.started:%Y-%m-%d %H:%M} · {kinds}")
        for problem in i.problems:
            typer.echo(f"  - {problem}")
    if json_out is not None:
        json_out.write_text(
            json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False, indent=1), encoding="utf-8"
        )


def export(
    conversation_ids: Optional[list[str]] = typer.Argument(None, help="conversations to export (ids as `report review` lists them)", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="the suite file to write (YAML)"),
    all_review: bool = typer.Option(False, "--all", help="export every conversation of `report review` in the window"),
    since: Optional[str] = typer.Option(None, "--since", help=SINCE_HELP + " (with --all)"),
    until: Optional[str] = typer.Option(None, "--until", help=UNTIL_HELP + " (with --all)"),
    name: Optional[str] = typer.Option(None, "--name", help="the suite's name (default 复盘-YYYYMMDD)"),
    shop: Optional[Path] = SHOP_OPT,
    data_dir: Optional[Path] = DATA_OPT,
) -> None:
    """Export conversations as a transcript suite, buyers' phones, names and addresses masked,
    so a case becomes a benchmark: `xiaoer eval FILE` replays it."""
    from bot.errors import TellCustomer

    service = _service(shop, data_dir)
    ids = list(conversation_ids or [])
    if all_review:
        ids += [i.conversation_id for i in service.review(_window(service, since, until))]
    out.parent.mkdir(parents=True, exist_ok=True)
    shop_ref = os.path.relpath(service.shop.root.resolve(), out.parent.resolve())
    try:
        text = service.export(ids, shop_ref=shop_ref, suite_name=name)
    except TellCustomer as exc:
        typer.echo(f"✗ {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out.write_text(text, encoding="utf-8")
    typer.echo(f"suite with {text.count(chr(10) + '  - id: ')} case(s): {out} (replay with `xiaoer eval {out}`)")


def register(app: typer.Typer) -> None:
    report_app = typer.Typer(
        no_args_is_help=True,
        help=(
            "Reports over stored data: `ops` (运营报告 with charts, CSV or JSON), `review` (复盘 list), "
            "`export` (chosen conversations as a transcript suite), `suggestions` (draft feedback per intent)."
        ),
    )
    report_app.command("ops")(ops)
    report_app.command("review")(review)
    report_app.command("export")(export)
    report_app.command("suggestions")(eval_cmds.suggestions)
    app.add_typer(report_app, name="report")
