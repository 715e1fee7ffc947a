"""Policy answers quote the shop's rules with their numbers, per region and product."""

from __future__ import annotations

from datetime import datetime

from bot.text.places import regions_in
from tests.drafting.helpers import fixture_shop, pipeline, request

BABY_NOW = datetime.fromisoformat("2026-06-16T10:00:00+08:00")


def test_a_city_names_its_region() -> None:
    assert regions_in("我在拉萨") == ["西藏"]
    assert regions_in("发乌鲁木齐几天") == ["新疆"]
    assert regions_in("甘肃包邮吗") == ["甘肃"]


def test_a_surcharge_in_the_rules_answers_an_excluded_region() -> None:
    shop = fixture_shop("baby_shop")
    d = pipeline(shop).draft(request(shop, "甘肃包邮吗 推车寄过来运费多少", "shipping_policy", now=BABY_NOW))
    assert "50元" in d.text and "甘肃包邮" not in d.text and d.passed


def test_a_fee_below_the_threshold_is_quoted_with_the_gap() -> None:
    shop = fixture_shop("baby_shop")
    d = pipeline(shop).draft(request(shop, "就买一包6包装的湿巾 要运费吗", "shipping_policy", now=BABY_NOW))
    assert "运费8元" in d.text and d.passed


def test_a_product_excluded_from_no_reason_returns_is_told_so() -> None:
    shop = fixture_shop("digital_shop")
    product = next(p for p in shop.products.values() if not p.no_reason_return and "钢化膜" in p.title)
    d = pipeline(shop).draft(request(shop, "钢化膜拆开贴了不合适 能七天无理由吗", "other", now=datetime.fromisoformat("2026-12-12T10:00:00+08:00")))
    assert product.id in d.facts["parts"][0]["product_ids"]
    assert "不支持" in d.text and d.passed


def test_a_rule_naming_the_product_says_it_may_still_be_returned() -> None:
    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "耳机拆开试戴了不喜欢还能退吗", "other", now=datetime.fromisoformat("2026-12-12T10:00:00+08:00")))
    assert "可以退" in d.text and "不支持七天" not in d.text and d.passed


def test_when_it_ships_is_answered_from_shipping_not_from_the_returns_rules() -> None:
    from bot.shop import load_shop
    from tests.drafting.helpers import FIXTURES

    shop = load_shop(FIXTURES.parent.parent / "knowledge")
    d = pipeline(shop).draft(request(shop, "亲 啥时候能发货哇", "shipping_policy"))
    assert "48小时" in d.text and "质量问题" not in d.text and d.passed
