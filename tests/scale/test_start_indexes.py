"""The drafting indexes built at start-up, built cheaper, hold what the shop-wide scans held.

Head nouns drop the words most titles share, counted once over the shop (it was a scan of
every product per word); option indexes are built when a product is first asked about; a
size question checks only the products one of whose sizes it writes. Each must give the same
answers as building and scanning everything, on every fixture shop and on a generated big
shop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.scale_shop import generate_shop
from bot.drafting.matching import flat
from bot.drafting.options import OptionIndex
from bot.drafting.products import ProductFinder, kind_words
from bot.retrieval.linker import EntityLinker
from bot.shop import Shop, load_shop
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]
LINES = (
    "这件卫衣有什么颜色", "黑色L码还有吗", "30ml×2瓶的多少钱", "白的M码", "有没有大一号的", "12-18个月穿哪个", "红色",
    "穿73还是80", "L码和XL码差多少", "身高170穿多大", "120码有吗", "xl", "S", "均码", "39码的鞋",
    "我175 150斤平时穿XL，偏大还是偏小", "平时穿2XL", "XXL有吗", "80码的", "满80减10", "买2件L码", "M", "xs码",
)


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _heads_by_scan(shop: Shop) -> dict[str, set[str]]:
    heads: dict[str, set[str]] = {}
    for pid, p in shop.products.items():
        words: set[str] = set()
        for piece in (flat(normalize(x)) for x in p.title.split() if x.strip()):
            run = re.findall(r"[\u4e00-\u9fff]+$", piece)
            if run:
                words.update(run[0][-n:] for n in range(2, min(4, len(run[0])) + 1))
        heads[pid] = words
    common = {w for ws in heads.values() for w in ws if sum(w in o for o in heads.values()) * 2 > len(heads) > 2}
    return {pid: ws - common for pid, ws in heads.items()}


def _kinds_by_scan(shop: Shop) -> dict[str, list[str]]:
    out = {}
    for word, alts in kind_words():
        owners = [
            pid for pid, p in shop.products.items()
            if any(a and (a in flat(normalize(p.title)) or a in flat(normalize(p.category))) for a in alts)
        ]
        if owners:
            out.setdefault(word, owners)
    return out


def _sizes_by_scan(shop: Shop, finder: ProductFinder, text: str) -> list[str]:
    out = []
    for pid, p in shop.products.items():
        if p.size_chart is None:
            continue
        key = next((k for s in p.skus for k in s.props if "码" in k), None)
        if key and OptionIndex(p).props(text).get(key):
            out.append(pid)
    return out


def _check(shop: Shop) -> None:
    finder = ProductFinder(shop, EntityLinker(shop))
    heads = _heads_by_scan(shop)
    assert {pid: finder.head_nouns(pid) for pid in shop.products} == heads
    for word, owners in _kinds_by_scan(shop).items():
        assert finder.kind_owners(word) == owners, word
    for pid, product in shop.products.items():
        eager = OptionIndex(product)
        lazy = finder.options[pid]
        assert lazy.values == eager.values and lazy.forms == eager.forms
        assert [lazy.props(line) for line in LINES] == [eager.props(line) for line in LINES]
    assert "没有这件商品" not in finder.options
    for line in LINES:
        every = _sizes_by_scan(shop, finder, line)
        assert finder.by_sizes(line) == every, line
        # Whether a size names one product alone is asked with a limit of two.
        assert finder.by_sizes(line, limit=2) == every[:2], line


@pytest.mark.parametrize("root", SHOPS, ids=lambda p: p.name)
def test_fixture_shops(root: Path) -> None:
    _check(load_shop(root))


def test_a_generated_big_shop(big_shop: Shop) -> None:
    _check(big_shop)
