"""Facts the drafter builds: quantities asked for, products named by a shared word."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.drafting.facts import parse_qty, spec_quantities
from bot.shop.loader import load_shop
from bot.shop.models import Shop
from tests.drafting.helpers import pipeline, request

SNACK_SHOP_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "snack_shop"


@pytest.fixture(scope="module")
def snack_shop() -> Shop:
    return load_shop(SNACK_SHOP_DIR)


def test_quantity_in_any_measure_word_the_shop_sells_by() -> None:
    assert parse_qty("芒果干买两袋多少钱") == 2
    assert parse_qty("要3瓶") == 3
    assert parse_qty("第二件半价吗") is None


def test_pack_size_of_a_sku_is_not_a_quantity() -> None:
    specs = ["25g×7包", "25g×30包"]
    assert parse_qty("每日坚果30包的多少钱", specs) is None
    assert spec_quantities("每日坚果30包的多少钱", specs) == {30}
    assert parse_qty("30包的买两件", specs) == 2


def test_price_of_a_pack_size_is_one_piece_of_that_sku(snack_shop: Shop) -> None:
    d = pipeline(snack_shop).draft(request(snack_shop, "每日坚果30包的到手价多少", "price_promotion", entities={"qty": 30}))
    assert d.facts["qty"] is None
    assert d.facts["quote"]["lines"][0]["qty"] == 1
    assert d.facts["quote"]["total"] in d.text


def test_a_word_shared_by_several_products_picks_none_of_them(snack_shop: Shop) -> None:
    d = pipeline(snack_shop).draft(request(snack_shop, "坚果有什么活动", "price_promotion"))
    assert d.facts["quote"] is None
    tied = d.facts["parts"][0]["tied"]
    assert len(tied) >= 2 and d.facts["parts"][0]["product_ids"] == []
    assert "还是" in d.text  # the reply asks which one is meant


def test_head_noun_of_a_title_names_the_product(snack_shop: Shop) -> None:
    product = next(p for p in snack_shop.products.values() if "碧根果" in p.title)
    d = pipeline(snack_shop).draft(request(snack_shop, "碧根果是哪里产的", "product_info"))
    assert d.facts["products"][0]["id"] == product.id
    assert product.attributes["产地"] in d.text


def test_how_to_eat_is_answered_from_the_usage_text(snack_shop: Shop) -> None:
    product = next(p for p in snack_shop.products.values() if p.usage and "泡水" in p.usage)
    d = pipeline(snack_shop).draft(request(snack_shop, "除了直接吃还能怎么吃", "product_info", product.id))
    assert "泡水" in d.text


def test_an_offer_the_shop_never_had_is_named_as_such(snack_shop: Shop, demo_shop: Shop) -> None:
    from bot.drafting.facts import unknown_offer

    assert unknown_offer("双十一那个坚果全场8折现在还有吗", snack_shop) == "8折"
    assert unknown_offer("有7折吗", demo_shop) == "7折"
    assert unknown_offer("全店88折还能用吗", demo_shop) is None  # the expired 88折 existed
    assert unknown_offer("满199减20能用吗", demo_shop) is None  # a real tier
    assert unknown_offer("第二件5折吗", demo_shop) is None  # 袜子第二件半价 is a 0.5 rate
    d = pipeline(snack_shop).draft(request(snack_shop, "双十一那个坚果全场8折现在还有吗", "price_promotion"))
    assert "没有「8折」" in d.text and d.passed


def test_the_quote_stays_typed_and_the_facts_serialise(mini_shop: Shop) -> None:
    from bot.pricing import Quote

    pipe = pipeline(mini_shop)
    req = request(mini_shop, "保温杯买两个一共多少钱？有什么活动", "price_promotion")
    facts = pipe.facts.build(req)
    assert isinstance(facts.quote, Quote)
    dumped = facts.model_dump(mode="json")
    assert dumped["quote"] == facts.quote.to_dict()
    assert dumped["basket"][0]["qty"] == 2
    assert all("text" not in part for part in dumped["parts"])  # the buyer's words are no evidence
    import json

    json.dumps(dumped, ensure_ascii=False)
