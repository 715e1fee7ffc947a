"""A number names a product only as written: the typo pass, which finds a string inside
others, would find a buyer's height, weight or order number inside product codes."""

from __future__ import annotations

import pytest

from benchmarks.scale_shop import generate_shop
from bot.retrieval.linker import EntityLinker
from bot.shop import Shop, load_shop


@pytest.fixture(scope="module")
def coded_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """400 products, most titled with a code (「岚静外套 K00158」)."""
    return load_shop(generate_shop(tmp_path_factory.mktemp("coded") / "shop", 400))


@pytest.mark.parametrize("line", ["158", "90斤", "7038", "我175", "158 90斤", "165cm", "腰围69"])
def test_numbers_name_no_product(coded_shop: Shop, line: str) -> None:
    assert EntityLinker(coded_shop).link(line) == []


def test_a_code_written_whole_names_its_product(coded_shop: Shop) -> None:
    pid, product = next((pid, p) for pid, p in coded_shop.products.items() if " K" in p.title)
    code = product.title.split()[-1]
    mentions = EntityLinker(coded_shop).link(f"{code}有货吗")
    assert mentions and mentions[0].product_id == pid


@pytest.mark.parametrize("line", ["加绒连帽为衣", "加绒连帽为衣 172 66公斤"])
def test_a_typo_in_words_is_still_read(coded_shop: Shop, line: str) -> None:
    mentions = EntityLinker(coded_shop).link(line)
    assert mentions and mentions[0].product_id == "WY01"
