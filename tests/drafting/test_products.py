"""Which product a question is about."""

from __future__ import annotations

from bot.drafting.products import ProductFinder
from bot.retrieval.linker import EntityLinker
from tests.drafting.helpers import fixture_shop


def _finder(name: str) -> ProductFinder:
    shop = fixture_shop(name)
    return ProductFinder(shop, EntityLinker(shop))


def test_a_buyers_word_for_a_kind_names_the_product() -> None:
    finder = _finder("beauty_shop")
    naming = finder.named("洗面奶能卸妆吗")
    assert any(finder.shop.products[m.product_id].category == "洁面" for m in naming.mentions)


def test_a_shared_category_names_no_product() -> None:
    finder = _finder("digital_shop")
    naming = finder.named("充电器多少钱")
    assert naming.best is None and len(naming.tied) == 2


def test_a_title_ending_in_the_word_used_wins_a_tie() -> None:
    finder = _finder("beauty_shop")
    best = finder.named("口红还有货吗").best
    assert best is not None and finder.shop.products[best.product_id].title.endswith("口红")


def test_a_quoted_price_tells_tied_products_apart() -> None:
    finder = _finder("digital_shop")
    best = finder.named("有没有便宜点的充电宝 149有点贵").best
    assert best is not None and any(str(s.price) == "149.00" for s in finder.shop.products[best.product_id].skus)


def test_a_word_inside_a_promotion_name_names_the_promotion_not_a_product() -> None:
    finder = _finder("beauty_shop")
    promo = next(p for p in finder.shop.promotions if p.type == "full_reduction")
    word = promo.title[:3]
    assert any(word in p.title for p in finder.shop.products.values())
    assert finder.named(f"{word}满减到什么时候结束", skip=[promo.title]).mentions == []


def test_the_product_talked_about_comes_from_the_conversation() -> None:
    finder = _finder("baby_shop")
    focus = finder.history_focus([("buyer", "推车现在到手多少"), ("bot", "亲亲，…")])
    assert focus is not None and "推车" in finder.shop.products[focus].title
