"""The shop report counts what the scripted days really left in the stores."""

from __future__ import annotations

import csv
import io
import re

from bot.reports.csvfile import HEADER, render_csv
from bot.reports.html import render_html
from bot.reports.service import ReportService
from bot.services import Services


def test_inquiry_conversion_counts_orders_created_within_a_day_of_the_question(reports: ReportService) -> None:
    report = reports.report(reports.window(None, None))
    total = report.total
    assert total.conversations == 7
    # b02 (7006) and b04 (7014) order within 24 h; b06, b07 and b03 do not.
    assert (total.conversion.numerator, total.conversion.denominator) == (2, 5)
    assert total.conversion.value == 0.4
    day_one, day_two = report.days
    assert str(day_one.day) == "2026-11-20" and (day_one.conversion.numerator, day_one.conversion.denominator) == (2, 4)
    assert str(day_two.day) == "2026-11-21" and (day_two.conversion.numerator, day_two.conversion.denominator) == (0, 1)


def test_response_times_split_bot_and_agents_and_start_from_the_buyer_or_the_handoff(
    reports: ReportService, played_services: Services
) -> None:
    total = reports.report(reports.window(None, None)).total
    assert total.bot is not None
    hold = played_services.shop.info.reply_policy.hold_s  # the demo shop's holding time
    # First responses of the bot: the reply policy's holding message ``hold`` s after each of
    # the five drafted questions, and the flows' instant answers to b01 and b05.
    assert (total.bot.first.count, total.bot.first.mean) == (7, round(5 * hold / 7, 1))
    # Answers of the bot: four instant flow replies, and b07's draft sent as drafted after 60 s.
    assert (total.bot.average.count, total.bot.average.mean) == (5, 12.0)
    # Agents' first responses: b02 40 s, b04 50 s, b06 30 + 300 s (the rejected draft and the
    # holding message answer nothing), b01 240 s after the complaint's handoff, b05 60 s after
    # the handoff, b03 45 s.
    assert total.agents.first.count == 6
    assert total.agents.first.mean == round((40 + 50 + 330 + 240 + 60 + 45) / 6, 1)
    # Answers of agents to a waiting buyer message: b01's and b05's handoffs were answered by
    # the bot's handoff reply, so only the drafts sent and b06's message count.
    assert total.agents.average.count == 4
    assert total.agents.average.mean == round((40 + 50 + 330 + 45) / 4, 1)


def test_satisfaction_complaints_handoffs_and_drafts(reports: ReportService) -> None:
    total = reports.report(reports.window(None, None)).total
    sat = total.satisfaction
    assert sat.rated == 5 and sat.distribution == {2: 1, 3: 1, 4: 2, 5: 1}
    assert (sat.satisfied.numerator, sat.satisfied.denominator) == (3, 5) and sat.mean == 3.6
    assert (total.complaint.numerator, total.complaint.denominator) == (1, 7)
    assert (total.handoff.numerator, total.handoff.denominator) == (2, 7)
    d = total.drafts
    assert (d.total, d.pending, d.auto_sent, d.accepted, d.edited, d.rejected) == (5, 0, 1, 1, 2, 1)
    assert d.acceptance.value == 0.25 and d.rejection.value == 0.25


def test_per_agent_figures_are_their_own_answers_drafts_and_conversations(reports: ReportService) -> None:
    agents = {a.agent: a for a in reports.report(reports.window(None, None)).agents}
    assert set(agents) == {"demo", "xiaoyu"}
    demo, xiaoyu = agents["demo"], agents["xiaoyu"]
    assert demo.bot is None
    assert (demo.drafts.accepted, demo.drafts.edited, demo.drafts.rejected) == (1, 0, 1)
    assert (xiaoyu.drafts.accepted, xiaoyu.drafts.edited, xiaoyu.drafts.rejected) == (0, 2, 0)
    assert demo.agents.first.mean == round((40 + 330 + 60) / 3, 1)
    assert xiaoyu.agents.first.mean == round((50 + 240 + 45) / 3, 1)
    # demo served b02 (ordered), b06 and b05 (not inquiries with an order): 1 of 2 inquiries.
    assert (demo.conversion.numerator, demo.conversion.denominator) == (1, 2)
    assert (xiaoyu.conversion.numerator, xiaoyu.conversion.denominator) == (1, 2)
    assert xiaoyu.satisfaction.distribution == {2: 1, 4: 1}


def test_a_window_of_whole_days_in_the_shop_time_zone(reports: ReportService) -> None:
    only_21 = reports.report(reports.window("2026-11-21", "2026-11-21"))
    assert only_21.total.conversations == 2 and [str(d.day) for d in only_21.days] == ["2026-11-21"]
    # 2026-11-20T16:00:00+08:00 is 08:00 UTC: a window up to 08:30 UTC holds the first five.
    morning = reports.report(reports.window("2026-11-20", "2026-11-20T08:30:00+00:00"))
    assert morning.total.conversations == 5
    empty = reports.report(reports.window("2026-12-01", None))
    assert empty.total.conversations == 0 and empty.total.conversion.value is None
    assert empty.total.satisfaction.mean is None


def test_html_has_the_figures_and_charts_and_reaches_nothing_outside(reports: ReportService) -> None:
    html = render_html(reports.report(reports.window(None, None)))
    assert "询单转化率" in html and "40.0%（2/5）" in html
    assert html.count("<svg") == 5 and 'id="conversion-by-day"' in html
    assert re.findall(r"(?:src|href)=", html) == []
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    empty = render_html(reports.report(reports.window("2026-12-01", None)))
    assert "暂无评价" in empty and "暂无数据" in empty


def test_csv_has_one_row_for_the_window_each_day_and_each_agent(reports: ReportService) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(reports.report(reports.window(None, None))))))
    assert rows[0] == HEADER
    scopes = [(r[0], r[1]) for r in rows[1:]]
    assert scopes == [("合计", "棉麻小铺"), ("日期", "2026-11-20"), ("日期", "2026-11-21"), ("客服", "demo"), ("客服", "xiaoyu")]
    total = dict(zip(HEADER, rows[1]))
    assert (total["询单数"], total["询单下单数"], total["询单转化率"]) == ("5", "2", "0.4")
    assert total["满意率"] == "0.6" and total["草稿驳回"] == "1"
    agent = dict(zip(HEADER, rows[4]))
    assert agent["机器人首次响应均值秒"] == "" and agent["人工首次响应均值秒"] == str(round(430 / 3, 1))
