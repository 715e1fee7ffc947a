"""What the guards read from the shop's own texts, read cheaper: the time spans the shop
writes (each distinct text once, no span read across two texts) must be the ones reading the
whole shop as one text gives, on every fixture shop and on a generated big shop; a date is
still told from a span when read back from the match rather than from the text's start."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.scale_shop import generate_shop
from bot.guards.figures import _AMOUNT, _DAYS, _SPAN, _amount, spans_in_days
from bot.guards.policy import shop_days
from bot.shop import Shop, load_shop
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _spans_by_prefix(text: str) -> set[Decimal]:
    """Time spans as read before: a date told by searching the whole text before the match."""
    found: set[Decimal] = set()
    for m in _SPAN.finditer(text):
        if m.group("unit") == "日" and re.search(r"月\s*$", text[: m.start("n")]):
            continue
        for raw in (m.group("low"), m.group("n")):
            amount = _amount(raw) if raw else None
            if amount is not None:
                found.add((amount * _DAYS[m.group("unit")]).normalize())
    return found


def _days_of_the_whole_shop(shop: Shop) -> frozenset[Decimal]:
    """The shop's time spans as read before: every text, joined into one."""
    texts = [sec.text for doc in shop.rules for sec in doc.sections] + [f.a for f in shop.faq]
    for product in shop.products.values():
        texts.append(product.title)
        texts.extend(v for sku in product.skus for v in sku.props.values())
    return frozenset(_spans_by_prefix(normalize(" ".join(texts)).replace(" ", "")))


@pytest.mark.parametrize("root", SHOPS, ids=lambda p: p.name)
def test_fixture_shops(root: Path) -> None:
    shop = load_shop(root)
    assert shop_days(shop) == _days_of_the_whole_shop(shop)


def test_a_generated_big_shop(big_shop: Shop) -> None:
    assert shop_days(big_shop) == _days_of_the_whole_shop(big_shop)


def test_a_span_one_product_alone_writes_counts_and_none_is_read_across_two_texts(big_shop: Shop) -> None:
    """A socks product's first SKU gets 规格 45天装 after its 尺码 35-39. Its span counts, and
    dropping the product loses it (the comparison above would see a product left out); the
    whole shop read as one text also read 「35-3945天」 across the two values: 35 days, which
    no text of the shop writes."""
    last = list(big_shop.products)[-1]
    product = big_shop.products[last]
    assert product.skus[0].props["尺码"] == "35-39"
    sku = product.skus[0].model_copy(update={"props": {**product.skus[0].props, "规格": "45天装"}})
    changed = product.model_copy(update={"skus": [sku, *product.skus[1:]]})
    # Another file digest: the shop's spans are remembered per content.
    shop = big_shop.model_copy(
        update={"products": {**big_shop.products, last: changed}, "file_hashes": {**big_shop.file_hashes, "+": "45"}}
    )
    assert Decimal(45) in shop_days(shop)
    assert shop_days(shop) == shop_days(big_shop) | {Decimal(45)}
    assert _days_of_the_whole_shop(shop) - shop_days(shop) == {Decimal(35), Decimal(3945)}
    without = shop.model_copy(
        update={
            "products": {k: v for k, v in shop.products.items() if k != last},
            "file_hashes": {**shop.file_hashes, "-": "45"},
        }
    )
    assert Decimal(45) not in shop_days(without)


@pytest.mark.parametrize("text", [
    "11月30日发货", "11月 30日", "11月\n30日", "3日内发货", "月底前3日", "1-3个工作日", "12月1日到12月3日",
    "三月五日", "五月份 3日", "七天无理由", "", "月", "30日", "月 \t 2日 和 5日",
])
def test_a_date_is_told_as_before(text: str) -> None:
    assert spans_in_days(text) == _spans_by_prefix(text)
    assert _AMOUNT  # the pattern the spans are read with
