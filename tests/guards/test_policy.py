"""Promises beyond the shop's policy: caught by their shape, not only by listed phrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.guards import check_reply
from bot.shop.models import Shop

# The facts of a shop whose rules say refunds go back "原路退回", with no arrival time.
FACTS = {"policy": {"return_window_days": 7, "quality_window_days": 15, "ship_within_hours": 48},
         "passages": [{"text": "退款原路退回到付款账户，到账时间以支付宝、银行等支付渠道为准。"}]}


def promises(text: str, shop: Shop, facts: dict | None = None) -> list[str]:  # type: ignore[type-arg]
    flags = check_reply(text, FACTS if facts is None else facts, shop, buyer="b01", check_numbers=False)
    return [f.detail for f in flags if f.code == "policy_promise"]


@pytest.mark.parametrize("text", [
    "亲，穿坏了一年内免费换新",
    "亲，保证三天内到账",
    "一年内免费换新",
    "终身保修哦",
    "亲，这款永久质保",
    "半年内包换，放心买",
    "30天内随便退换",
    "两年保修",
    "我们一定给您退款",
    "退款马上到账",
    "明天就能收到哦",
    "确保3天内送达",
    "坏了免费维修",
    "质量问题一个月内免费换新",
])
def test_promises_the_policy_does_not_make_are_flagged(text: str, mini_shop: Shop) -> None:
    assert promises(text, mini_shop)


@pytest.mark.parametrize("text", [
    "亲，签收后7天内可以申请退货退款",
    "质量问题签收后15天内可以退换，寄回运费由本店承担",
    "质量问题15天内免费退换",
    "付款后48小时内发货",
    "已为您办理仅退款，142.80 元已原路退回，一般 1-3 个工作日到账",
    "提交后退款立即原路退回",
    "订单 7002 承诺 11月20日 20:00 前发出",
    "我们收到退货后原路退款",
    "如果没有收到，可以先问问家人、门卫或快递柜",
    "退款到账时间以支付宝、银行等支付渠道为准",
    "我们无法保证具体到账时间，以银行为准",
    "活动到11月30日，满299送帆布袋",
])
def test_what_the_policy_says_is_no_promise(text: str, mini_shop: Shop) -> None:
    assert promises(text, mini_shop) == []


def test_a_time_the_shops_facts_state_may_be_repeated(mini_shop: Shop) -> None:
    facts = {**FACTS, "answers": [{"a": "定制款质量问题30天内可以换货"}]}
    assert promises("定制款质量问题30天内可以换货", mini_shop, facts) == []
    assert promises("定制款质量问题30天内可以换货", mini_shop) != []


def test_the_finding_names_the_clause(mini_shop: Shop) -> None:
    assert promises("亲，面料很舒服，穿坏了一年内免费换新哦", mini_shop) == ["穿坏了一年内免费换新哦"]


def test_advertising_law_terms_are_still_flagged(mini_shop: Shop) -> None:
    flags = check_reply("亲，这是全网最低价，销量第一", {}, mini_shop, buyer="b01", check_numbers=False)
    assert [f.code for f in flags] == ["ad_law"]


def test_the_platforms_name_and_the_shops_own_words_are_no_promise() -> None:
    from bot.shop import load_shop

    baby = load_shop(Path(__file__).resolve().parents[1] / "fixtures" / "baby_shop")  # 15-day window
    assert promises("这款不支持7天无理由退货", baby) == []
    assert promises("七天无理由退货需在签收后15天内申请", baby) == []
    assert promises("支持10天无理由退货", baby)  # a window the shop does not have
    beauty = load_shop(Path(__file__).resolve().parents[1] / "fixtures" / "beauty_shop")
    assert promises("发往新疆、西藏、青海约6-9天送达", beauty) == []  # quoted from its rules
    assert promises("保证6天内送达", load_shop(Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"))
