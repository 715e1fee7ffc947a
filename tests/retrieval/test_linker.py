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


def test_shared_words_do_not_hide_the_named_product(mini_shop: Shop) -> None:
    """With dozens of products sharing a category and colours, the one whose own title word
    is named still wins, and a product in focus still gets its shared colour resolved."""
    cup = mini_shop.products["W202"]
    names = ["山茶", "竹影", "松风", "云雾", "石泉", "梅雪", "兰亭", "荷塘"]
    clones = {
        f"C{i:03d}": cup.model_copy(
            update={
                "id": f"C{i:03d}",
                "title": f"{names[i % 8]}{names[(i // 8) % 8]}{i:03d}号保温杯",
                "skus": [s.model_copy(update={"sku_id": f"C{i:03d}-{j}"}) for j, s in enumerate(cup.skus)],
            }
        )
        for i in range(48)
    }
    shop = mini_shop.model_copy(update={"products": {**mini_shop.products, **clones}})
    linker = EntityLinker(shop)
    top = linker.link("山茶竹影008号保温杯墨绿色有货吗")
    assert top[0].product_id == "C008"
    focused = linker.link("墨绿色的那个", focus_product="C020")
    assert focused[0].product_id == "C020" and focused[0].props


def test_head_noun_of_a_title_part_names_the_product(mini_shop: Shop) -> None:
    # 明前西湖龙井 is a 西湖龙井: the tail of a title part is how buyers name it.
    linker = EntityLinker(mini_shop)
    assert linker.link("西湖龙井有吗")[0].product_id == "T101"


def test_a_word_shared_equally_by_two_products_is_ambiguous() -> None:
    from bot.retrieval.linker import ProductMention, without_ambiguous

    a = ProductMention(product_id="A", sku_ids=[], props={}, span="坚果", score=0.3)
    b = ProductMention(product_id="B", sku_ids=[], props={}, span="坚果", score=0.3)
    c = ProductMention(product_id="C", sku_ids=[], props={}, span="每日坚果", score=0.9)
    assert without_ambiguous([a, b], None) == []
    assert without_ambiguous([a, b], "B") == [a, b]  # the product in focus stays
    assert without_ambiguous([c, a], None) == [c, a]


def test_plain_colour_words_reach_the_shops_own_colour_names() -> None:
    from bot.retrieval.linker import colour_family, value_variants

    assert colour_family("曜石黑") == "黑" and colour_family("墨绿") == "绿"
    assert {"黑色", "黑的"} <= value_variants("曜石黑")
    assert "白色" in value_variants("月白")
    assert colour_family("500g礼盒") is None
