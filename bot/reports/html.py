"""The report as one static HTML page with inline SVG charts (no scripts, no network)."""

from __future__ import annotations

from html import escape

from bot.evaluation.charts import accuracy_bars
from bot.reports.figures import Figures, Rate, Seconds, ShopReport

NO_DATA = "暂无数据"

STYLE = (
    "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:24px;color:#343a40}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #dee2e6;border-radius:8px;"
    "padding:12px 16px;min-width:150px}.card b{display:block;font-size:22px}.card span{color:#868e96}"
    ".card small{display:block;color:#868e96}section{margin-top:24px}table{border-collapse:collapse;font-size:13px}"
    ".charts{display:flex;flex-wrap:wrap;gap:8px 24px}.scroll{overflow-x:auto}"
    "th,td{border:1px solid #dee2e6;padding:4px 8px;text-align:right;white-space:nowrap}th:first-child,td:first-child{text-align:left}"
    "th{background:#f8f9fa}.muted{color:#868e96}"
)


def rate_text(rate: Rate) -> str:
    if rate.value is None:
        return NO_DATA
    return f"{rate.value:.1%}（{rate.numerator}/{rate.denominator}）"


def seconds_text(value: float | None) -> str:
    if value is None:
        return NO_DATA
    s = int(round(value))
    if s < 60:
        return f"{s}秒"
    if s < 3600:
        return f"{s // 60}分{s % 60:02d}秒"
    return f"{s // 3600}小时{s % 3600 // 60:02d}分"


def wait_text(s: Seconds) -> str:
    return NO_DATA if s.mean is None else f"{seconds_text(s.mean)}（{s.count}次）"


def satisfaction_text(f: Figures) -> str:
    sat = f.satisfaction
    if not sat.rated:
        return "暂无评价"
    return f"{sat.satisfied.value:.0%} 满意 · 均分 {sat.mean}（{sat.rated}人评价）"


def cards(report: ShopReport) -> list[tuple[str, str, str]]:
    """``(label, value, note)`` of the headline figures."""
    t = report.total
    bot = t.bot
    return [
        ("询单转化率", rate_text(t.conversion), "询单后24小时内下单"),
        ("机器人首次响应", wait_text(bot.first) if bot else NO_DATA, "平均"),
        ("机器人平均响应", wait_text(bot.average) if bot else NO_DATA, "每次回复"),
        ("人工首次响应", wait_text(t.agents.first), "转人工或待处理起算"),
        ("人工平均响应", wait_text(t.agents.average), "每次回复"),
        ("满意度", rate_text(t.satisfaction.satisfied) if t.satisfaction.rated else "暂无评价",
         f"均分 {t.satisfaction.mean} · {report.definitions.satisfied_min_rating}–5分为满意" if t.satisfaction.rated
         else "买家还没有评价"),
        ("投诉率", rate_text(t.complaint), "有投诉的会话"),
        ("转人工率", rate_text(t.handoff), "转人工的会话"),
        ("草稿原样采纳", rate_text(t.drafts.acceptance), f"修改 {t.drafts.edited} · 驳回 {t.drafts.rejected}"),
        ("会话数", str(t.conversations), ""),
    ]


def _bars(chart_id: str, title: str, rows: list[tuple[str, float | None, int]]) -> str:
    """Rate bars; with nothing to draw, one row says so."""
    return accuracy_bars(chart_id, title, rows or [(NO_DATA, None, 0)])


def charts(report: ShopReport) -> dict[str, str]:
    """The charts, by id, as SVG text."""
    days = report.days
    agents = report.agents
    rated = report.total.satisfaction.rated or 1
    return {
        "conversion-by-day": _bars(
            "conversion-by-day", "每日询单转化率", [(str(d.day), d.conversion.value, d.conversion.denominator) for d in days]
        ),
        "satisfaction-by-day": _bars(
            "satisfaction-by-day", "每日满意率（4–5分）",
            [(str(d.day), d.satisfaction.satisfied.value, d.satisfaction.rated) for d in days],
        ),
        "ratings": _bars(
            "ratings", "评分分布",
            [(f"{k} 分", n / rated, n) for k, n in sorted(report.total.satisfaction.distribution.items(), reverse=True)],
        ),
        "acceptance-by-agent": _bars(
            "acceptance-by-agent", "各客服草稿原样采纳率",
            [(a.agent, a.drafts.acceptance.value, a.drafts.decided) for a in agents],
        ),
        "conversion-by-agent": _bars(
            "conversion-by-agent", "各客服询单转化率",
            [(a.agent, a.conversion.value, a.conversion.denominator) for a in agents],
        ),
    }


COLUMNS: list[tuple[str, str]] = [
    ("会话", "conversations"),
    ("询单转化率", "conversion"),
    ("机器人首次响应", "bot_first"),
    ("机器人平均响应", "bot_average"),
    ("人工首次响应", "agent_first"),
    ("人工平均响应", "agent_average"),
    ("满意度", "satisfaction"),
    ("投诉率", "complaint"),
    ("转人工率", "handoff"),
    ("草稿 采纳/修改/驳回", "drafts"),
]


def row_cells(f: Figures) -> list[str]:
    d = f.drafts
    return [
        str(f.conversations),
        rate_text(f.conversion),
        wait_text(f.bot.first) if f.bot else "—",
        wait_text(f.bot.average) if f.bot else "—",
        wait_text(f.agents.first),
        wait_text(f.agents.average),
        satisfaction_text(f),
        rate_text(f.complaint),
        rate_text(f.handoff),
        f"{d.accepted}/{d.edited}/{d.rejected}",
    ]


def _table(first: str, rows: list[tuple[str, Figures]]) -> str:
    if not rows:
        return f"<p class=muted>{NO_DATA}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in [first, *(c for c, _ in COLUMNS)])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in [name, *row_cells(f)]) + "</tr>" for name, f in rows
    )
    return f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def window_text(report: ShopReport) -> str:
    since = report.since.strftime("%Y-%m-%d %H:%M") if report.since else "最早"
    until = report.until.strftime("%Y-%m-%d %H:%M") if report.until else "现在"
    return f"{since} 至 {until}（{report.timezone}，不含结束时刻）"


def render_html(report: ShopReport) -> str:
    title = f"{report.shop} · 客服运营报告"
    card_html = "".join(
        f"<div class=card><span>{escape(k)}</span><b>{escape(v)}</b><small>{escape(n)}</small></div>"
        for k, v, n in cards(report)
    )
    chart_html = "<section class=charts>" + "".join(f"<div>{svg}</div>" for svg in charts(report).values()) + "</section>"
    return (
        "<!doctype html><html lang=zh-CN><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        f"<h1>{escape(title)}</h1>"
        f"<p class=muted>统计区间：{escape(window_text(report))} · 生成于 {report.generated:%Y-%m-%d %H:%M} · "
        "各项指标的定义见 docs/reports.md</p>"
        f"<div class=cards>{card_html}</div>{chart_html}"
        f"<section><h2>按天</h2>{_table('日期', [(str(d.day), d) for d in report.days])}</section>"
        f"<section><h2>按客服</h2>{_table('客服', [(a.agent, a) for a in report.agents])}</section>"
        "</html>"
    )
