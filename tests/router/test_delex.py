"""Delexicalisation: goods become placeholders, so the classifier serves any shop's goods."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.router.delex import Delexicaliser, delexicaliser_for
from bot.router.router import Router, build_router
from bot.shop import load_shop
from bot.text.normalize import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SNACK = FIXTURES / "snack_shop"
MINI = FIXTURES / "mini_shop"


@pytest.fixture(scope="module")
def snack_router() -> Router:
    return build_router(load_shop(SNACK))


@pytest.fixture(scope="module")
def snack_delex() -> Delexicaliser:
    return delexicaliser_for(load_shop(SNACK))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("碧根果还有货吗", "〈商品〉还有货吗"),  # a title's head noun (奶香碧根果 长寿果)
        ("麻辣的牛肉干还有吗", "〈规格〉的〈商品〉还有吗"),  # a SKU value of another kind than colour
        ("换成红色福字款", "换成〈规格〉"),
        ("黑色的XL码有吗", "〈颜色〉的〈尺码〉有吗"),  # generic colour and size
        ("你家卖不卖开心果", "你家卖不卖〈商品〉"),  # goods the shop does not list
    ],
)
def test_goods_words_become_placeholders(snack_delex: Delexicaliser, text: str, expected: str) -> None:
    assert snack_delex(normalize(text)) == expected


def test_order_ids_and_intent_words_are_kept(snack_delex: Delexicaliser) -> None:
    text = normalize("订单9102包邮吗，现货还是预售")
    assert snack_delex(text) == text


def test_one_letter_sizes_are_not_read_inside_words() -> None:
    delex = delexicaliser_for(load_shop(FIXTURES.parent.parent / "knowledge"))
    assert delex("换成l码") == "换成〈尺码〉"
    assert delex("500ml的杯子") == "500ml的〈商品〉"


def test_a_bad_placeholder_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        Delexicaliser({"普洱": "商品"})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("碧根果原味的还有货吗", "stock"),
        ("芒果干啥价", "price_promotion"),
        ("我买的牛肉干到哪了", "logistics"),
        ("海苔能换成6罐装的吗", "exchange"),
    ],
)
def test_a_shop_of_another_trade_is_routed_by_how_the_buyer_asks(snack_router: Router, text: str, intent: str) -> None:
    assert snack_router.route(text, {}).intent == intent


def test_a_shops_words_kept_in_the_data_directory_are_read_back_and_follow_the_shop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.router.delex as delex

    shop = load_shop(Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop")
    config = delex.load_delex_config()
    fresh = delex.shop_terms(shop, config)
    assert delex.kept_shop_terms(shop, config, tmp_path) == fresh
    assert list(tmp_path.glob("delex-terms-*.pickle"))

    def never(*_: object) -> dict[str, str]:
        raise AssertionError("the kept words were not read back")

    monkeypatch.setattr(delex, "shop_terms", never)
    assert delex.kept_shop_terms(shop, config, tmp_path) == fresh
    assert delexicaliser_for(shop, cache_dir=tmp_path).vocabulary == {**config.generic, **fresh}

    # another shop (its content hash): its own words, found again
    monkeypatch.undo()
    other = shop.model_copy(update={"file_hashes": {**shop.file_hashes, "products/new.yaml": "0" * 64}})
    assert other.content_hash != shop.content_hash
    calls: list[str] = []
    real = delex.shop_terms

    def counted(s, c):  # type: ignore[no-untyped-def]
        calls.append(s.content_hash)
        return real(s, c)

    monkeypatch.setattr(delex, "shop_terms", counted)
    assert delex.kept_shop_terms(other, config, tmp_path) == fresh
    assert calls == [other.content_hash]


def test_an_empty_word_or_a_bad_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="龙井"):
        Delexicaliser({"青瓷": "〈商品〉", "龙井": "商品"})
    with pytest.raises(ValueError, match="bad delexicalisation entry ''"):
        Delexicaliser({"": "〈商品〉"})
    assert Delexicaliser({"龙井": "〈商品〉"})("龙井多少钱") == "〈商品〉多少钱"
