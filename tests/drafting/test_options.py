"""The SKU options a buyer's words name, written the buyer's way."""

from __future__ import annotations

import pytest

from bot.drafting.options import OptionIndex, age_in_months
from bot.shop.models import Shop
from tests.drafting.helpers import fixture_shop


@pytest.fixture(scope="module")
def digital() -> Shop:
    return fixture_shop("digital_shop")


def _index(shop: Shop, word: str) -> OptionIndex:
    return OptionIndex(next(p for p in shop.products.values() if word in p.title))


def test_a_unit_written_the_other_way_names_the_spec(mini_shop: Shop) -> None:
    ix = OptionIndex(mini_shop.products["T101"])
    assert ix.props("龙井250克多少钱") == {"规格": ["250g罐装"]}


def test_the_last_words_of_a_model_name_it_and_not_a_shorter_one(digital: Shop) -> None:
    ix = _index(digital, "手机壳 支持MagSafe")
    assert ix.props("promax透明的壳")["机型"] == ["iPhone 16 Pro Max"]
    assert ix.props("16pro 磨砂黑的壳")["机型"] == ["iPhone 16 Pro"]
    assert ix.props("一个16一个16pro")["机型"] == ["iPhone 16", "iPhone 16 Pro"]
    assert "机型" not in ix.props("买16个")  # a count, not a model


def test_the_first_characters_of_a_colour_name_it() -> None:
    beauty = fixture_shop("beauty_shop")
    ix = _index(beauty, "丝绒雾面口红")
    (value,) = ix.props("豆沙色那支")["色号"]
    assert "豆沙" in value


def test_a_stage_is_named_by_its_number_and_picked_by_age() -> None:
    baby = fixture_shop("baby_shop")
    ix = _index(baby, "配方奶粉")
    (value,) = ix.props("1段奶粉一罐")["段位"]
    assert value.startswith("1段")
    assert [v for _, v in ix.by_age("宝宝8个月了")] == [v for v in ix.values["段位"] if "6-12" in v]
    assert age_in_months("一岁半") == 18 and age_in_months("2岁") == 24


def test_a_set_is_named_by_what_it_adds(digital: Shop) -> None:
    ix = _index(digital, "20W PD")
    (value,) = ix.props("20w充电头加线的套装")["套餐"]
    assert "+" in value
    assert ix.props("20w充电头多少钱") == {}  # the product's own name names no option
