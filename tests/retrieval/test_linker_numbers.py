"""A number names a product only as written: the typo pass, which finds a string inside
others, would find a buyer's height, weight or order number inside product codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scale_shop import generate_shop
from bot.retrieval.linker import EntityLinker
from bot.shop import Shop, load_shop

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    ("shop", "line", "not_linked"),
    [
        ("baby_shop", "穿73还是80", "K501"),  # a size question is no 婴儿手口专用湿巾 80抽
        ("baby_shop", "80码的", "K501"),
        ("baby_shop", "1.5kg装的", "K701"),  # nor is a pack size 宝宝高铁米粉 225g罐装
        ("mini_shop", "我是棉花糖不甜，收件人王芳，电话13857120431，寄到文三路100号东方通信大厦5楼", "P301"),
    ],
)
def test_numbers_beside_words_do_not_count_in_the_typo_pass(shop: str, line: str, not_linked: str) -> None:
    linked = [m.product_id for m in EntityLinker(load_shop(ROOT / "tests" / "fixtures" / shop)).link(line)]
    assert not_linked not in linked


def test_a_date_names_no_product(coded_shop: Shop) -> None:
    assert EntityLinker(coded_shop).link("3月20日") == []


def test_numbers_do_not_weaken_a_typo(coded_shop: Shop) -> None:
    """A height and weight beside a misspelt title weigh no more than their units do."""
    linker = EntityLinker(coded_shop)
    beside, units = linker.link("加绒连帽为衣 172 66公斤"), linker.link("加绒连帽为衣 公斤")
    assert beside[0].product_id == units[0].product_id == "WY01" and beside[0].score == units[0].score
