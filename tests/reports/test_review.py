"""Chat-log review: what is listed, what went wrong, and the export that becomes a benchmark."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.clock import FrozenClock
from bot.errors import NotFound, TellCustomer
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import InProcessTarget
from bot.reports.service import ReportService
from bot.review.export import added_tokens
from tests.reports.shop_day import ShopDay
from tests.reports.test_definitions import T0, Log


def by_nick(items):  # type: ignore[no-untyped-def]
    return {i.buyer_nick: i for i in items}


def test_the_list_names_lost_inquiries_and_rewritten_or_rejected_drafts(reports: ReportService, played: ShopDay) -> None:
    items = by_nick(reports.review(reports.window(None, None)))
    nick = {b: played.services.shop.buyers[b].nick for b in ("b03", "b06", "b07")}
    # b02 and b04 ordered, and b04's draft was only touched up; b01 and b05 asked no pre-sales question.
    assert set(items) == set(nick.values())

    rewritten = items[nick["b03"]]
    assert rewritten.kinds == ["not_converted", "draft_edited"]
    assert any("24 小时内没有下单" in p for p in rewritten.problems)
    assert any(p.startswith("商品咨询的草稿被客服 xiaoyu 改动了") for p in rewritten.problems)
    assert rewritten.drafts[0].sent and "260g" in rewritten.drafts[0].sent and rewritten.drafts[0].edit_ratio >= 0.5

    rejected = items[nick["b06"]]
    assert rejected.kinds == ["not_converted", "draft_rejected"]
    assert "推荐的草稿被客服 demo 驳回：推荐的款式不适合中老年" in rejected.problems
    assert "买家等了 5分30秒 才得到客服 demo的回复" in rejected.problems
    assert "买家评了 3 分" in rejected.problems

    timed_out = items[nick["b07"]]
    assert timed_out.kinds == ["not_converted"]
    assert "库存的草稿 1分00秒 无人处理，按原稿自动发出" in timed_out.problems
    assert [(line.role, line.speaker) for line in timed_out.transcript] == [
        ("buyer", "买家"), ("bot", "机器人"), ("bot", "机器人")  # the holding message, then the draft
    ]
    assert timed_out.transcript[0].intent == "stock"

    only_drafts = reports.review(reports.window(None, None), kinds={"draft_rejected", "draft_edited"})
    assert {i.buyer_nick for i in only_drafts} == {nick["b03"], nick["b06"]}


def test_exported_conversations_load_as_a_suite_and_replay_as_benchmarks(
    reports: ReportService, tmp_path: Path
) -> None:
    items = reports.review(reports.window(None, None))
    out = tmp_path / "eval" / "review.yaml"
    out.parent.mkdir()
    text = reports.export([i.conversation_id for i in items], shop_ref=str(reports.shop.root), suite_name="复盘")
    out.write_text(text, encoding="utf-8")

    suite = load_suite(out)
    assert suite.name == "复盘" and len(suite.cases) == 3
    cases = {c.case.buyer: c.case for c in suite.cases}
    assert cases["b03"].turns[0].expect.intent == ["product_info"]
    # The figure the agent added to the rewritten draft is what the reply must now contain.
    assert cases["b03"].turns[0].expect.reply_contains == ["260g"]
    assert str(cases["b06"].turns[0].user) == "想给妈妈买件衣服，有什么推荐的吗"
    assert "# 驳回原因：推荐的款式不适合中老年" in text and "# 客服发送：亲，这款是260g精梳棉" in text

    report = run_suites([suite], lambda shop, now: InProcessTarget.build(shop, now))
    runs = {c.buyer: c.runs[0] for c in report.cases()}
    for buyer, run in runs.items():
        assert run.error is None, (buyer, run.error)
        assert all(ch.passed for t in run.turns for ch in t.checks if ch.key == "intent"), buyer
    b03 = runs["b03"].turns[0]
    assert runs["b03"].passed == ("260g" in b03.reply.replace(" ", ""))
    assert runs["b06"].passed and runs["b07"].passed


def test_exports_mask_the_buyers_phone_name_and_address(tmp_path: Path, demo_shop) -> None:  # type: ignore[no-untyped-def]
    log = Log(tmp_path, demo_shop)
    cid = log.conversation("b01", T0)
    log.buyer(cid, "我是棉花糖不甜，收件人王芳，电话13857120431，寄到文三路100号东方通信大厦5楼", T0, intent="product_info")
    log.say(cid, "bot", "亲，收到", T0 + timedelta(seconds=5))
    service = ReportService(log.engine, log.shop, log.orders, FrozenClock(T0))
    text = service.export([cid], shop_ref="../knowledge")
    assert "13857120431" not in text and "138****0431" in text
    assert "王芳" not in text and "王*" in text
    assert "东方通信大厦5楼" not in text and "文三路****" in text
    case = yaml.safe_load(text)["cases"][0]
    assert case["buyer"] == "b01" and case["now"] == "2026-11-19T21:00:00+08:00"
    assert "棉花糖不甜" not in text and "我是棉****" in text  # the buyer's nick, too


def test_export_refusals_are_in_chinese(reports: ReportService) -> None:
    with pytest.raises(TellCustomer, match="请至少选择一段对话"):
        reports.export([], shop_ref="x")
    with pytest.raises(NotFound, match="没有找到对话：nope"):
        reports.export(["nope"], shop_ref="x")


def test_added_tokens_are_the_numbers_and_codes_only_the_agent_wrote() -> None:
    assert added_tokens("满199减15", "满199减15，实付满99元包邮，单号SF100200") == ["99", "SF100200"]
    assert added_tokens("亲，有货", "亲，有货哦") == []
