"""The reports page and its API: 运营报告 (JSON, HTML, CSV) and 复盘 (the review list and
the export of chosen conversations as a transcript suite). Agents and admins only."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, BeforeValidator, Field

from bot.api.deps import AgentDep, ServicesDep
from bot.api.headers import content_security_policy
from bot.api.schemas import Body
from bot.reports.figures import ShopReport
from bot.reports.csvfile import render_csv
from bot.reports.html import cards, charts, render_html, window_text
from bot.reports.service import MAX_EXPORT, ReportService
from bot.review.findings import ReviewItem
from bot.services import Services

router = APIRouter(tags=["reports"])
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"

def _iso_only(value: object) -> object:
    """Dates and times as ISO 8601 text only: not a number read as a Unix timestamp."""
    if isinstance(value, str) and not ISO_DATE.match(value.strip()):
        raise ValueError("请用 2026-11-20 或 2026-11-20T10:00:00+08:00 这样的日期或时间")
    return value


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
When = Annotated[date | datetime | None, BeforeValidator(_iso_only)]
Since = Annotated[When, Query(description="开始日期 YYYY-MM-DD（店铺时区）或 ISO 8601 时刻")]
Until = Annotated[When, Query(description="结束日期 YYYY-MM-DD（含当天）或 ISO 8601 时刻（不含）")]
ConversationId = Annotated[str, Field(min_length=1, max_length=128)]
KindParam = Literal["not_converted", "draft_rejected", "draft_edited"]


def report_service(services: ServicesDep) -> ReportService:
    return ReportService(services.db, services.shop, services.orders, services.clock)


ReportsDep = Annotated[ReportService, Depends(report_service)]


class Card(BaseModel):
    label: str
    value: str
    note: str


class ReportView(BaseModel):
    """What the reports page draws: the figures, the headline cards and the charts (SVG)."""

    report: ShopReport
    window: str
    cards: list[Card]
    charts: dict[str, str]


class ExportIn(Body):
    conversation_ids: list[ConversationId] = Field(min_length=1, max_length=MAX_EXPORT, description="要导出的对话")
    name: str | None = Field(default=None, max_length=80, description="评测集名称（默认 复盘-日期）")


@router.get("/reports", include_in_schema=False)
def reports_page() -> FileResponse:
    return FileResponse(STATIC / "reports.html")


@router.get("/api/agent/reports", response_model=ShopReport)
def report_json(agent: AgentDep, reports: ReportsDep, since: Since = None, until: Until = None) -> ShopReport:
    """运营报告：询单转化率、机器人与人工的首次/平均响应时间、满意度、投诉率、转人工率、草稿采纳，按天和按客服。"""
    return reports.report(reports.window(since, until))


@router.get("/api/agent/reports/view", response_model=ReportView)
def report_view(agent: AgentDep, reports: ReportsDep, since: Since = None, until: Until = None) -> ReportView:
    """运营报告页面所需：指标、概览卡片和图表（内联 SVG）。"""
    report = reports.report(reports.window(since, until))
    return ReportView(
        report=report,
        window=window_text(report),
        cards=[Card(label=k, value=v, note=n) for k, v, n in cards(report)],
        charts=charts(report),
    )


FILES = {
    200: {
        "description": "报告文件（附件）",
        "content": {"text/html": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}},
    }
}
SUITE = {
    200: {
        "description": "评测用例集（transcript 格式的 YAML，附件）",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


@router.get("/api/agent/reports/download", response_class=Response, responses=FILES)
def report_download(
    agent: AgentDep,
    reports: ReportsDep,
    since: Since = None,
    until: Until = None,
    format: Literal["html", "csv"] = Query("html", description="html（带图表）或 csv"),
) -> Response:
    """下载运营报告：HTML（带图表，离线可看）或 CSV（每天、每位客服一行）。"""
    report = reports.report(reports.window(since, until))
    stamp = f"{report.generated:%Y%m%d}"
    if format == "csv":
        return Response(
            render_csv(report).encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ops-report-{stamp}.csv"'},
        )
    return Response(
        render_html(report),
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ops-report-{stamp}.html"',
            # The standalone report carries its own <style>; it runs no script.
            "Content-Security-Policy": content_security_policy(script="'none'", style="'unsafe-inline'"),
        },
    )


@router.get("/api/agent/review", response_model=list[ReviewItem])
def review_list(
    agent: AgentDep,
    reports: ReportsDep,
    since: Since = None,
    until: Until = None,
    kind: Annotated[list[KindParam] | None, Query(description="只看这些类别")] = None,
) -> list[ReviewItem]:
    """复盘列表：未转化的询单、被驳回或大幅修改的草稿，附对话记录和问题所在。"""
    return reports.review(reports.window(since, until), kinds=set(kind) if kind else None)


@router.post("/api/agent/review/export", response_class=Response, responses=SUITE)
def review_export(body: ExportIn, agent: AgentDep, reports: ReportsDep, services: ServicesDep) -> Response:
    """把选中的对话导出为评测用例集（transcript 格式的 YAML），买家手机号、姓名、地址已打码。"""
    text = reports.export(body.conversation_ids, shop_ref=_shop_ref(services), suite_name=body.name)
    stamp = f"{services.clock.now():%Y%m%d-%H%M}"
    return Response(
        text.encode("utf-8"),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="review-{stamp}.yaml"'},
    )


def _shop_ref(services: Services) -> str:
    """Where the suite finds its shop: the shop directory as an absolute path, since the
    browser decides where the file is saved."""
    return str(services.shop.root.resolve())
