"""Each question of a message: what it is about and what answers it."""

from __future__ import annotations

from datetime import datetime

from tests.drafting.helpers import fixture_shop, pipeline, request

DIGITAL_NOW = datetime.fromisoformat("2026-12-12T10:00:00+08:00")


def test_a_follow_up_keeps_the_product_and_the_options_named_before() -> None:
    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "promax透明的壳有货吗，没有的话黑色有吗", "stock", now=DIGITAL_NOW))
    first, second = d.facts["parts"]
    assert first["product_ids"] == second["product_ids"]
    assert first["asked_skus"][0]["stock"] == 0 and "没货" in d.text
    (sku,) = second["asked_skus"]
    assert sku["props"]["机型"] == first["asked_skus"][0]["props"]["机型"] and sku["stock"] > 0
    assert sku["props"]["颜色"] in d.text


def test_a_follow_up_naming_nothing_goes_on_with_the_question_before() -> None:
    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "能发顺丰吗 要补钱不", "shipping_policy", now=DIGITAL_NOW))
    assert [p["kind"] for p in d.facts["parts"]] == ["shipping", "shipping"]
    assert "8元" in d.text and "人工" not in d.text


def test_a_question_with_a_word_the_shop_never_uses_next_to_the_one_it_shares_is_unknown() -> None:
    shop = fixture_shop("digital_shop")
    d = pipeline(shop).draft(request(shop, "磁吸充电宝循环寿命多少次 能用几年", "product_info", now=DIGITAL_NOW))
    assert all(p["unknown"] for p in d.facts["parts"])
    assert "人工" in d.text


def test_an_age_picks_the_option_and_its_stock() -> None:
    shop = fixture_shop("baby_shop")
    d = pipeline(shop).draft(request(shop, "宝宝8个月了 奶粉该喝几段", "product_info", now=datetime.fromisoformat("2026-06-16T10:00:00+08:00")))
    (part,) = d.facts["parts"]
    assert part["by_age"] and all("6-12" in s["props"]["段位"] for s in part["by_age"])
    assert "2段" in d.text and ("没货" in d.text or "有货" in d.text)
