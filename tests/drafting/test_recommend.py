"""Recommendations by need, and never a dearer product for "too dear"."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tests.drafting.helpers import fixture_shop, pipeline, request

DIGITAL_NOW = datetime.fromisoformat("2026-12-12T10:00:00+08:00")
BABY_NOW = datetime.fromisoformat("2026-06-16T10:00:00+08:00")


def test_a_selling_point_matching_the_occasion_is_recommended() -> None:
    shop = fixture_shop("baby_shop")
    d = pipeline(shop).draft(request(shop, "朋友生宝宝了 想送个满月礼 有啥推荐", "recommendation", now=BABY_NOW))
    first = d.facts["recommendations"][0]
    assert "满月礼" in " ".join(shop.products[first["product_id"]].selling_points)
    assert first["title"] in d.text and d.passed


def test_too_dear_offers_only_what_costs_less() -> None:
    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "有没有便宜点的充电宝 149有点贵 学生党", "price_promotion", now=DIGITAL_NOW))
    picks = d.facts["parts"][0]["recommendations"]
    assert picks and all(Decimal(r["price"]) < Decimal("149") for r in picks)
    assert picks[0]["title"] in d.text and d.passed


def test_too_dear_with_nothing_cheaper_says_so_and_prices_the_offers() -> None:
    shop = fixture_shop("baby_shop")
    d = pipeline(shop).draft(request(shop, "推车有没有便宜点的 1299太贵了", "price_promotion", now=BABY_NOW))
    assert "只有这一款" in d.text and d.facts["quote"]["total"] in d.text
    assert not d.facts["parts"][0]["recommendations"] and d.passed


def test_a_budget_keeps_dearer_products_out() -> None:
    shop = fixture_shop("beauty_shop")
    now = datetime.fromisoformat("2027-03-08T14:00:00+08:00")
    d = pipeline(shop).draft(request(shop, "学生党 有没有便宜点的精华 150以内", "recommendation", now=now))
    picks = d.facts["parts"][0]["recommendations"]
    assert picks and all(Decimal(r["price"]) <= 150 for r in picks)


def test_a_product_named_by_its_own_words_gets_what_goes_with_it(demo_shop) -> None:  # type: ignore[no-untyped-def]
    title = next(p.title for p in demo_shop.products.values() if p.related and "牛仔裤" in p.title)
    d = pipeline(demo_shop).draft(request(demo_shop, f"{title.split()[0]}配什么上衣好看", "recommendation"))
    assert d.facts["recommend_basis"] == "related" and d.facts["recommendations"]
