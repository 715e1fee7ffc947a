"""Entity linking on the mini tea shop: products and SKUs from colloquial mentions."""

from __future__ import annotations

import pytest

from bot.retrieval.linker import EntityLinker
from bot.shop import Shop


@pytest.fixture(scope="module")
def linker(mini_shop: Shop) -> EntityLinker:
    return EntityLinker(mini_shop)


def test_product_and_sku_from_title_word_and_spec(linker: EntityLinker) -> None:
    best = linker.link("龙井500克礼盒")[0]
    assert best.product_id == "T101"
    assert best.sku_ids == ["T101-500"]
    assert best.props == {"规格": "500g礼盒"}


def test_colour_after_product_word(linker: EntityLinker) -> None:
    best = linker.link("保温杯墨绿")[0]
    assert (best.product_id, best.sku_ids) == ("W202", ["W202-GR"])


def test_traditional_characters(linker: EntityLinker) -> None:
    assert linker.link("你們有賣普洱茶嗎")[0].product_id == "P301"


def test_no_spec_named_keeps_every_sku(linker: EntityLinker) -> None:
    best = linker.link("那个保温杯还有货吗")[0]
    assert best.product_id == "W202"
    assert set(best.sku_ids) == {"W202-GR", "W202-BK"}
    assert best.props == {}


def test_anaphora_resolves_within_focus_product(linker: EntityLinker) -> None:
    best = linker.link("黑色的那个", focus_product="W202")[0]
    assert (best.product_id, best.sku_ids) == ("W202", ["W202-BK"])


def test_another_product_named_outranks_focus(linker: EntityLinker) -> None:
    assert linker.link("龙井500克礼盒还有吗", focus_product="W202")[0].product_id == "T101"


def test_sku_id_typed_outright(linker: EntityLinker) -> None:
    best = linker.link("我要 T101-250 两罐")[0]
    assert best.sku_ids == ["T101-250"]


def test_props_in_names_values_of_one_product(linker: EntityLinker) -> None:
    assert linker.props_in("换成黑色的吧", "W202") == {"颜色": "黑色"}
    assert linker.props_in("要250克罐装的", "T101") == {"规格": "250g罐装"}
    assert linker.props_in("换成黑色的吧", "NOPE") == {}


def test_chitchat_and_bad_input_link_nothing(linker: EntityLinker) -> None:
    assert linker.link("你好呀") == []
    assert linker.link("") == []
    assert linker.link("🙂" * 3000) == []
    assert linker.link("hello, do you ship abroad?") == []


def test_sizes_do_not_match_inside_longer_sizes(demo_shop: Shop) -> None:
    linker = EntityLinker(demo_shop)
    some = next(p for p in demo_shop.products.values() if any(s.props.get("尺码") == "XL" for s in p.skus))
    assert linker.props_in("要XL码", some.id).get("尺码") == "XL"
    assert linker.props_in("换成L码", some.id).get("尺码") == "L"
