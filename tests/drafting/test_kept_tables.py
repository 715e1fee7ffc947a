"""The shop's drafting tables kept between starts: read back, they equal the ones built from
the shop, and a drafter using them answers as one that built its own; a changed shop file
gives new tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.drafting import kept
from bot.drafting.facts import FactsBuilder
from bot.drafting.kept import DraftingTables, build_tables, drafting_tables
from bot.drafting.recommend import Recommender
from bot.drafting.relevance import Relevance
from bot.retrieval.linker import EntityLinker
from bot.shop import load_shop
from bot.text.tokenize import ShopTokenizer
from tests.drafting.helpers import request
from tests.fakes.retriever import FakeRetriever

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOPS = [FIXTURES.parents[1] / "knowledge", *sorted(p for p in FIXTURES.iterdir() if (p / "shop.yaml").is_file())]
QUESTIONS = ["保温杯多少钱", "有没有适合送人的", "白色的还有吗", "这款是什么材质", "满多少包邮", "推荐一件外套"]


def _same(a: DraftingTables, b: DraftingTables) -> None:
    assert a.finder == b.finder
    assert a.texts.texts == b.texts.texts and a.texts.total == b.texts.total
    assert a.texts._weights == b.texts._weights
    assert a.texts._having.keys() == b.texts._having.keys()
    assert all(np.array_equal(a.texts._having[c], b.texts._having[c]) for c in a.texts._having)
    assert a.categories.words == b.categories.words and a.categories.titles == b.categories.titles


@pytest.mark.parametrize("shop_dir", SHOPS, ids=lambda p: p.name)
def test_category_tables_are_what_a_recommender_builds_at_first_use(shop_dir: Path) -> None:
    shop = load_shop(shop_dir)
    tables = build_tables(shop)
    for finder in (tables.finder, None):
        lazy = Recommender(shop, Relevance(tables.texts, ShopTokenizer()), titles=finder)
        categories = {p.category for p in shop.products.values()}
        assert set(tables.categories.words) == categories == set(tables.categories.titles)
        for category in sorted(categories):
            assert lazy._words_of_category(category) == tables.categories.words[category], category
            assert lazy._category_titles(category) == tables.categories.titles[category], category


@pytest.mark.parametrize("shop_dir", SHOPS, ids=lambda p: p.name)
def test_kept_tables_equal_built_ones_and_answer_alike(shop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = load_shop(shop_dir)
    retriever = FakeRetriever(shop)
    linker = EntityLinker(shop)
    own = FactsBuilder(shop, retriever, linker)  # builds its own tables
    drafting_tables(shop, tmp_path)  # built and kept
    built = build_tables(shop)
    monkeypatch.setattr(kept, "build_tables", lambda _shop: pytest.fail("built again"))
    back = drafting_tables(shop, tmp_path)  # read back
    _same(back, built)
    reading = FactsBuilder(shop, retriever, linker, cache_dir=tmp_path)
    for question in QUESTIONS:
        req = request(shop, question, "product_info")
        assert reading.build(req).model_dump() == own.build(req).model_dump(), question


def test_a_changed_shop_file_gives_new_tables(tmp_path: Path) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(FIXTURES / "mini_shop", shop_dir)
    cache = tmp_path / "cache"
    before = drafting_tables(load_shop(shop_dir), cache)
    product = next((shop_dir / "products").glob("*.yaml"))
    text = product.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    product.write_text(text.replace(title, "title: 全新设计的竹纤维浴巾"), encoding="utf-8")
    changed = load_shop(shop_dir)
    after = drafting_tables(changed, cache)
    assert after.finder != before.finder
    _same(after, build_tables(changed))
    assert len(list(cache.glob("drafting-tables-*.pickle"))) == 1  # the older entry is gone
