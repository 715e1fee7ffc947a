"""Baskets read from a question and priced by the pricing engine."""

from __future__ import annotations

from datetime import datetime

from bot.drafting.products import ProductFinder
from bot.drafting.quotes import Baskets
from bot.money import fmt
from bot.pricing import BasketLine, price_basket
from bot.retrieval.linker import EntityLinker
from bot.shop.models import Shop
from tests.drafting.helpers import fixture_shop, pipeline, request

DIGITAL_NOW = datetime.fromisoformat("2026-12-12T10:00:00+08:00")


def _baskets(shop: Shop) -> Baskets:
    return Baskets(shop, ProductFinder(shop, EntityLinker(shop)))


def _product(shop: Shop, word: str):  # type: ignore[no-untyped-def]
    return next(p for p in shop.products.values() if word in p.title)


def test_two_products_with_their_options_are_two_lines() -> None:
    shop = fixture_shop("digital_shop")
    bank, cable = _product(shop, "磁吸无线充电宝"), _product(shop, "编织快充数据线")
    items = _baskets(shop).read("磁吸充电宝加一根1米60w的c to c线 一起拍多少钱", [bank, cable])
    assert [i.product_id for i in items] == [bank.id, cable.id]
    sku = cable.sku(items[1].sku_id)
    assert sku is not None and sku.props == {"长度": "1米", "功率": "60W"}
    assert [i.qty for i in items] == [1, 1]


def test_two_options_of_one_product_are_two_lines_each_once() -> None:
    shop = fixture_shop("digital_shop")
    case = _product(shop, "手机壳 支持MagSafe")
    items = _baskets(shop).read("一个16一个16pro 透明壳各买一个", [case], each=True)
    models = [case.sku(i.sku_id).props["机型"] for i in items]  # type: ignore[union-attr]
    assert models == ["iPhone 16", "iPhone 16 Pro"] and all(i.qty == 1 for i in items)


def test_a_count_belongs_to_its_line_and_a_pack_size_is_no_count() -> None:
    shop = fixture_shop("baby_shop")
    wipes = _product(shop, "湿巾")
    (item,) = _baskets(shop).read("湿巾12包装的 买两箱多少钱", [wipes])
    assert item.qty == 2 and "12包" in wipes.sku(item.sku_id).props["规格"]  # type: ignore[union-attr]


def test_the_basket_reply_quotes_the_engine_total() -> None:
    shop = fixture_shop("beauty_shop")
    serum, cream = _product(shop, "玻尿酸补水精华"), _product(shop, "修护面霜")
    s30 = next(s for s in serum.skus if s.props["规格"] == "30ml")
    c50 = next(s for s in cream.skus if "50g" in s.props["规格"])
    now = datetime.fromisoformat("2027-03-08T14:00:00+08:00")
    buyer = next(iter(shop.buyers.values()))
    quote = price_basket(shop, [BasketLine(s30.sku_id), BasketLine(c50.sku_id)], now, buyer)
    d = pipeline(shop).draft(request(shop, "玻尿酸精华30ml+修护面霜50g一起买多少钱", "price_promotion", now=now, buyer=buyer))
    assert fmt(quote.total) in d.text and d.passed
    assert [ln["sku"] for ln in d.facts["quote"]["lines"]] == [s30.sku_id, c50.sku_id]


def test_a_price_question_naming_nothing_prices_the_basket_talked_about() -> None:
    shop = fixture_shop("beauty_shop")
    now = datetime.fromisoformat("2027-03-08T14:00:00+08:00")
    history = [("buyer", "修护面霜正装加一支洗面奶 一起多少"), ("bot", "宝宝，…")]
    d = pipeline(shop).draft(request(shop, "差多少能满300减40啊", "price_promotion", now=now, history=history))
    lines = d.facts["quote"]["lines"]
    assert len(lines) == 2
    missing = next(g["missing"] for g in d.facts["quote"]["gaps"] if g["threshold"] == "300.00")
    assert f"再凑{missing}元" in d.text
