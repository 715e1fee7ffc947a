"""Promotions as facts: named by the buyer, with their dates, scope and status."""

from __future__ import annotations

from datetime import datetime

from bot.drafting.offers import Offers, unknown_offer
from bot.drafting.relevance import Relevance
from bot.retrieval.vocab import shop_tokenizer
from bot.shop.models import Shop
from tests.drafting.helpers import fixture_shop, pipeline, request

BEAUTY_NOW = datetime.fromisoformat("2027-03-08T14:00:00+08:00")


def _offers(shop: Shop) -> Offers:
    from bot.drafting.kept import shop_texts

    return Offers(shop, Relevance(shop_texts(shop), shop_tokenizer(shop)))


def test_a_coupon_is_named_by_its_numbers_even_without_满() -> None:
    shop = fixture_shop("beauty_shop")
    offers = _offers(shop)
    coupon = next(p for p in shop.promotions if p.type == "coupon" and p.threshold == 199)
    text = f"{coupon.threshold:.0f}减{coupon.amount:.0f}的券在哪领"
    named = offers.named(offers.relevance.question(text), text, BEAUTY_NOW, [])
    assert named[0].id == coupon.id and named[0].how_to_get == coupon.how_to_get


def test_dates_are_in_the_shops_timezone_and_status_follows_now() -> None:
    shop = fixture_shop("beauty_shop")
    offers = _offers(shop)
    ends_today = next(p for p in offers.current(BEAUTY_NOW, []) if p.ends_today)
    assert ends_today.ends == "3月8日" and ends_today.end_time == "23:59"
    product = next(p for p in shop.products.values() if p.category == "防晒")
    (coming,) = [p for p in offers.around(BEAUTY_NOW, [product]) if p.status == "upcoming"]
    assert coming.starts == "3月20日" and product.id in coming.applies_to


def test_an_offer_the_shop_never_had_is_named_as_such(mini_shop: Shop) -> None:
    assert unknown_offer("有7折吗", mini_shop) == "7折"
    assert unknown_offer("满199减15能用吗", mini_shop) is None


def test_the_reply_says_when_a_named_offer_ends() -> None:
    shop = fixture_shop("beauty_shop")
    d = pipeline(shop).draft(request(shop, "女王节满减到什么时候结束呀", "price_promotion", now=BEAUTY_NOW))
    assert "3月8日" in d.text and "结束" in d.text and d.passed


def test_the_reply_says_an_offer_does_not_cover_a_product() -> None:
    shop = fixture_shop("beauty_shop")
    d = pipeline(shop).draft(request(shop, "199减30的券在哪领 买口红能用吗", "price_promotion", now=BEAUTY_NOW))
    coupon = next(p for p in shop.promotions if p.type == "coupon" and p.threshold == 199)
    assert coupon.how_to_get and coupon.how_to_get in d.text
    assert "只适用" in d.text and "不能用" in d.text and d.passed


def test_waiting_for_a_coming_offer_names_it_with_its_start() -> None:
    shop = fixture_shop("beauty_shop")
    d = pipeline(shop).draft(request(shop, "防晒现在买还是等等 听说过几天有活动", "price_promotion", now=BEAUTY_NOW))
    assert "3月20日" in d.text and d.passed


def test_an_offer_that_ended_on_the_product_is_named_as_ended(mini_shop: Shop) -> None:
    after = datetime.fromisoformat("2026-12-05T10:00:00+08:00")
    d = pipeline(mini_shop).draft(request(mini_shop, "龙井现在有折扣吗", "price_promotion", now=after))
    discount = next(p for p in mini_shop.promotions if p.type == "discount" and p.scope.products == ["T101"])
    assert discount.title in d.text and "结束" in d.text and "11月30日" in d.text
