"""The offline template drafter answers the common sales questions from shop data alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.money import fmt
from bot.pricing import BasketLine, price_basket
from bot.shop.models import Shop
from tests.drafting.helpers import NOW, pipeline, request


def _product_with_sold_out_sku(shop: Shop):  # type: ignore[no-untyped-def]
    for p in shop.products.values():
        if p.size_chart is None or len(p.skus) < 3:
            continue
        for sku in p.skus:
            first_key = next(iter(sku.props), None)
            same = [s for s in p.skus if s is not sku and first_key and s.props.get(first_key) == sku.props[first_key]]
            if sku.stock == 0 and any(s.stock > 0 for s in same):
                return p, sku
    raise AssertionError("the demo shop has no sold-out SKU with in-stock siblings")


@pytest.fixture(scope="module")
def demo(demo_shop: Shop):  # type: ignore[no-untyped-def]
    return pipeline(demo_shop)


def test_sold_out_sku_gets_in_stock_alternatives_and_a_two_choice_question(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    product, sku = _product_with_sold_out_sku(demo_shop)
    words = "".join(sku.props.values())
    d = demo.draft(request(demo_shop, f"{words}还有货吗", "stock", product.id))
    assert "没货" in d.text
    alternatives = d.facts["alternatives"]
    assert alternatives and all(a["stock"] > 0 for a in alternatives)
    assert "还是" in d.text  # 二选一
    assert d.passed and d.drafter == "template"
    assert any(c.citation.endswith(f"{product.id}.yaml") for c in d.citations)


def test_size_advice_comes_from_the_size_chart_rows(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    product = next(p for p in demo_shop.products.values() if p.size_chart and any("身高" in c for c in p.size_chart.columns))
    chart = product.size_chart
    assert chart is not None
    h = chart.columns.index(next(c for c in chart.columns if "身高" in c))
    row = chart.rows[len(chart.rows) // 2]
    lo, hi = (int(x) for x in row[h].split("-"))
    height = (lo + hi) // 2 if hi - lo > 1 else lo
    d = demo.draft(request(demo_shop, f"身高{height}cm穿什么码", "size_advice", product.id))
    assert f"{row[0]}码" in d.text
    assert d.passed


def test_two_fitting_sizes_end_with_a_two_choice_question(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    d = demo.draft(request(demo_shop, "175cm 70kg穿什么码", "size_advice", "TS01"))
    fits = d.facts["size_advice"]["fits"]
    assert all(f"{size}码" in d.text for size in fits)
    if len(fits) > 1:
        assert "还是" in d.text


def test_price_for_two_items_is_the_pricing_engine_total_with_a_top_up_hint(mini_shop: Shop) -> None:
    sku = next(s for s in mini_shop.products["T101"].skus if s.stock > 0)
    quote = price_basket(mini_shop, [BasketLine(sku.sku_id, 2)], NOW, mini_shop.buyers["b01"])
    d = pipeline(mini_shop).draft(request(mini_shop, "买两件多少钱", "price_promotion", "T101", buyer=mini_shop.buyers["b01"]))
    assert fmt(quote.total) in d.text
    assert fmt(quote.list_total) in d.text
    if quote.gaps:
        assert f"再凑{fmt(quote.gaps[0].missing)}元" in d.text  # 凑单
    assert d.passed


def test_free_shipping_threshold_comes_from_the_policy(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    d = demo.draft(request(demo_shop, "满多少包邮", "shipping_policy"))
    threshold = demo_shop.info.policy.free_shipping_threshold
    assert threshold is not None
    assert f"{threshold:.0f}元包邮" in d.text
    assert f"{demo_shop.info.policy.ship_within_hours}小时" in d.text
    assert any(c.citation == "shop.yaml#policy" for c in d.citations)


def test_invoice_question_is_answered_from_the_faq_with_its_citation(mini_shop: Shop) -> None:
    d = pipeline(mini_shop).draft(request(mini_shop, "能开发票吗", "invoice"))
    assert "电子普通发票" in d.text
    assert any(c.citation.startswith("faq.yaml") for c in d.citations)


def test_matching_trousers_are_recommended_from_related_products(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    d = demo.draft(request(demo_shop, "有没有搭配的裤子推荐", "recommendation", "TS01"))
    recos = d.facts["recommendations"]
    assert recos and "裤" in recos[0]["category"]
    assert recos[0]["title"] in d.text


def test_a_fact_the_shop_data_lacks_is_not_made_up(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    d = demo.draft(request(demo_shop, "是哪个工厂生产的", "product_info", "TS01"))
    assert "不清楚" in d.text and "转人工" in d.text
    assert demo_shop.products["TS01"].attributes.get("产地", "§") not in d.text


def test_pilling_question_is_answered_from_the_care_rules(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    d = demo.draft(request(demo_shop, "这件T恤起球吗", "product_info", "TS01"))
    assert "起球" in d.text
    assert d.citations and d.passed


def test_attribute_question_quotes_the_attribute(mini_shop: Shop) -> None:
    d = pipeline(mini_shop).draft(request(mini_shop, "产地是哪里", "product_info", "T101"))
    assert mini_shop.products["T101"].attributes["产地"] in d.text


def test_no_pushing_after_the_buyer_said_no(mini_shop: Shop) -> None:
    pushy = pipeline(mini_shop).draft(request(mini_shop, "买两件多少钱", "price_promotion", "T101"))
    calm = pipeline(mini_shop).draft(request(mini_shop, "买两件多少钱", "price_promotion", "T101", declined=True))
    assert "再凑" in pushy.text and "还是" in pushy.text
    assert "再凑" not in calm.text and "还是" not in calm.text
    assert pushy.facts["quote"]["total"] in calm.text  # the question is still answered


def test_focus_product_is_taken_from_the_conversation_history(demo_shop: Shop, demo) -> None:  # type: ignore[no-untyped-def]
    title = demo_shop.products["TS01"].title
    d = demo.draft(request(demo_shop, "满多少包邮", "shipping_policy", history=[("buyer", f"{title}怎么样")]))
    assert d.facts["products"][0]["id"] == "TS01"


@pytest.mark.parametrize("intent,question", [
    ("product_info", "这个怎么样"), ("stock", "有货吗"), ("price_promotion", "有什么优惠"),
    ("size_advice", "穿什么码"), ("recommendation", "推荐一下"), ("payment", "能用花呗吗"), ("other", "你们老板是谁"),
])
def test_every_template_draft_passes_the_guards_on_any_shop(mini_shop: Shop, demo_shop: Shop, intent: str, question: str) -> None:
    for shop in (mini_shop, demo_shop):
        pid = next(iter(shop.products))
        d = pipeline(shop).draft(request(shop, question, intent, pid))
        assert d.passed, (shop.info.name, d.text, d.flag_details)
        assert d.text.startswith(shop.info.persona.address_term)


def test_numbers_in_template_drafts_are_decimal_strings_from_facts(mini_shop: Shop) -> None:
    d = pipeline(mini_shop).draft(request(mini_shop, "有什么优惠", "price_promotion", "T101"))
    assert Decimal(d.facts["quote"]["total"]) > 0
    assert d.facts["quote"]["total"] in d.text


def test_stock_of_a_one_sku_product_names_the_product(mini_shop: Shop) -> None:
    product = next(p for p in mini_shop.products.values() if len(p.skus) == 1 and p.skus[0].stock > 0)
    d = pipeline(mini_shop).draft(request(mini_shop, "还有货吗", "stock", product.id))
    assert product.title in d.text
    assert str(product.skus[0].stock) in d.text


def test_top_up_names_the_threshold_the_buyer_asks_about(mini_shop: Shop) -> None:
    sku = next(s for s in mini_shop.products["T101"].skus if s.stock > 0)
    quote = price_basket(mini_shop, [BasketLine(sku.sku_id, 1)], NOW, mini_shop.buyers["b01"])
    far = quote.gaps[-1]
    assert far.missing != quote.gaps[0].missing
    question = f"买一件还差多少能满{far.threshold:.0f}"
    d = pipeline(mini_shop).draft(request(mini_shop, question, "price_promotion", "T101", buyer=mini_shop.buyers["b01"]))
    assert f"再凑{fmt(far.missing)}元" in d.text


def test_shipping_to_an_excluded_region_says_it_is_not_free(mini_shop: Shop) -> None:
    region = mini_shop.info.policy.no_free_shipping_regions[0]
    d = pipeline(mini_shop).draft(request(mini_shop, f"寄{region}包邮吗", "shipping_policy"))
    assert f"{region}不包邮" in d.text


# --- every question answered, from the right fact ------------------------------------------

BEAUTY_NOW = "2027-03-08T14:00:00+08:00"


def _beauty():  # type: ignore[no-untyped-def]
    from datetime import datetime

    from tests.drafting.helpers import fixture_shop

    return fixture_shop("beauty_shop"), datetime.fromisoformat(BEAUTY_NOW)


def test_each_question_of_a_message_gets_its_own_answer() -> None:
    shop, now = _beauty()
    mask = next(p for p in shop.products.values() if p.category == "面膜")
    d = pipeline(shop).draft(request(shop, "面膜可以天天敷吗？敷完要不要洗脸", "product_info", now=now))
    assert len(d.facts["parts"]) == 2
    for qa in mask.faq[:2]:
        assert qa.a.split("；")[0] in d.text
    assert d.passed


def test_the_product_whose_data_answers_is_the_one_asked_about() -> None:
    shop, now = _beauty()
    d = pipeline(shop).draft(request(shop, "洗面奶能顺便卸妆吗 懒得再买卸妆油", "product_info", now=now))
    cleanser = next(p for p in shop.products.values() if p.category == "洁面")
    assert d.facts["parts"][0]["product_ids"][0] == cleanser.id
    assert cleanser.faq[0].a.split("，")[0] in d.text


def test_a_word_naming_two_products_gets_a_two_choice_question() -> None:
    from datetime import datetime

    from tests.drafting.helpers import fixture_shop

    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "充电器多少钱", "price_promotion", now=datetime.fromisoformat("2026-12-12T10:00:00+08:00")))
    chargers = [p for p in shop.products.values() if p.category == "充电器"]
    assert all(p.title in d.text for p in chargers) and "还是" in d.text
    assert d.facts["quote"] is None and d.passed


def test_a_question_no_fact_answers_gets_unknown_and_a_person(mini_shop: Shop) -> None:
    d = pipeline(mini_shop).draft(request(mini_shop, "龙井的茶多酚含量具体是多少", "product_info"))
    assert "转人工" in d.text and "茶多酚" not in d.text


def test_an_unknown_second_question_is_said_to_be_unknown() -> None:
    from datetime import datetime

    from tests.drafting.helpers import fixture_shop

    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "65w的支持pps不 三星s24能45w超快充吗", "product_info", now=datetime.fromisoformat("2026-12-12T10:00:00+08:00")))
    assert "人工" in d.text and "支持PPS" not in d.text.upper()


def test_where_the_shop_says_ask_a_doctor_the_reply_says_so() -> None:
    shop, now = _beauty()
    d = pipeline(shop).draft(request(shop, "怀孕了能用烟酰胺精华吗", "product_info", now=now))
    assert "医生" in d.text and d.passed


def test_the_options_of_a_product_are_listed_with_their_stock(mini_shop: Shop) -> None:
    cup = mini_shop.products["W202"]
    d = pipeline(mini_shop).draft(request(mini_shop, "保温杯有几个颜色", "product_info"))
    assert all(s.props["颜色"] in d.text for s in cup.skus)


def test_a_named_option_sold_out_is_said_to_be_sold_out() -> None:
    shop, now = _beauty()
    d = pipeline(shop).draft(request(shop, "豆沙色那支口红还有货吗", "stock", now=now))
    assert "没货" in d.text and d.facts["asked_skus"][0]["stock"] == 0
