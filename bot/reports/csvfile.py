"""The report as one CSV table: the whole window, then one row per day, then per agent.

Numbers are plain (rates 0–1, seconds) so a spreadsheet can compute with them; an empty
cell means there was nothing to count.
"""

from __future__ import annotations

import csv
import io

from bot.reports.figures import Figures, Rate, Seconds, ShopReport

HEADER = [
    "范围", "名称", "会话数", "询单数", "询单下单数", "询单转化率",
    "机器人首次响应均值秒", "机器人平均响应均值秒", "机器人回复次数",
    "人工首次响应均值秒", "人工平均响应均值秒", "人工回复次数",
    "评价数", "满意数", "满意率", "平均评分", "投诉会话", "投诉率", "转人工会话", "转人工率",
    "草稿数", "草稿原样采纳", "草稿修改", "草稿驳回", "草稿采纳率", "修改平均改动比例",
]


def _n(value: float | int | None) -> str:
    return "" if value is None else str(value)


def _rate(rate: Rate) -> list[str]:
    return [str(rate.numerator), _n(rate.value)]


def _row(scope: str, name: str, f: Figures) -> list[str]:
    bot_first, bot_avg = (f.bot.first, f.bot.average) if f.bot else (Seconds(), Seconds())
    sat, d = f.satisfaction, f.drafts
    return [
        scope, name, str(f.conversations), str(f.conversion.denominator), *_rate(f.conversion),
        _n(bot_first.mean), _n(bot_avg.mean), str(bot_avg.count) if f.bot else "",
        _n(f.agents.first.mean), _n(f.agents.average.mean), str(f.agents.average.count),
        str(sat.rated), *_rate(sat.satisfied), _n(sat.mean),
        *_rate(f.complaint), *_rate(f.handoff),
        str(d.total), str(d.accepted), str(d.edited), str(d.rejected), _n(d.acceptance.value), _n(d.mean_edit_ratio),
    ]


def render_csv(report: ShopReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerow(_row("合计", report.shop, report.total))
    for day in report.days:
        writer.writerow(_row("日期", str(day.day), day))
    for agent in report.agents:
        writer.writerow(_row("客服", agent.agent, agent))
    return out.getvalue()
