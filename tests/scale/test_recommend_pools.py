"""Recommendations from a pool of whole categories (「推荐件保暖的外套」) read the pool's index,
worked out once per pool and kept: its ids, the ids in order, the words naming its kinds. A
question's products are split by which wished-for words they have with set operations, not
scored one by one. The recommendations must be the ones sorting every product of the pool
gives, the first time and when the pool's index is read back, for pools of one category, of
several, of part of a category, and the whole shop in a new list, on every fixture shop and on
a generated shop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scale_shop import generate_shop
from bot.drafting.facts import FactsBuilder
from bot.drafting.recommend import Recommender, _PoolIndex
from bot.retrieval.linker import EntityLinker
from bot.drafting.products import Naming
from bot.shop import Shop, load_shop
from bot.shop.models import Product
from tests.scale.test_recommend_candidates import NOW, WISHES, _by_need_sorting_every_product

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]
QUESTIONS = (*WISHES, "有没有透气一点适合通勤的衬衫推荐", "帮我推荐一件适合秋天穿的外套", "冬天特别怕冷，帮我推荐件保暖的外套", "外套 300以内")


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _recommender(shop: Shop) -> Recommender:
    return FactsBuilder(shop, None, EntityLinker(shop)).recommender  # type: ignore[arg-type]


def _pools(shop: Shop, rec: Recommender) -> list[tuple[str, list[Product], bool]]:
    by_category: dict[str, list[Product]] = {}
    for p in shop.products.values():
        by_category.setdefault(p.category, []).append(p)
    cats = list(by_category)
    out: list[tuple[str, list[Product], bool]] = [("every product", list(shop.products.values()), False)]
    out += [(cat, ps, True) for cat, ps in by_category.items()]
    # Several categories, as kinds_named puts them in order; part of one; the whole shop named.
    out.append(("two categories", rec._in_order(by_category[c] for c in cats[:2]), True))
    out.append(("part of a category", by_category[cats[0]][1:], True))
    out.append(("every product, named", list(shop.products.values()), True))
    return out


def _differences(shop: Shop, rec: Recommender | None = None) -> list[tuple[str, str, int]]:
    rec = rec or _recommender(shop)
    plain = _recommender(shop)  # its prices and stock, not the index, are what the check reads
    buyer = next(iter(shop.buyers.values()))
    wrong = []
    for name, pool, kind_named in _pools(shop, rec):
        for question in QUESTIONS:
            q = rec.relevance.question(question)
            for exclude in ((), tuple(p.id for p in pool[:2])):
                want = _by_need_sorting_every_product(plain, question, q, pool, buyer, kind_named=kind_named, exclude=exclude)
                for attempt in range(2):  # the index built, then read back
                    got = rec.by_need(question, q, pool, NOW, buyer, kind_named=kind_named, exclude=exclude, message=question)
                    if [r.product_id for r in got] != want:
                        wrong.append((name, question, attempt))
    return wrong


@pytest.mark.parametrize("shop_dir", SHOPS, ids=[d.name for d in SHOPS])
def test_fixture_shops(shop_dir: Path) -> None:
    assert _differences(load_shop(shop_dir)) == []


def test_a_generated_shop(big_shop: Shop) -> None:
    assert _differences(big_shop) == []


def test_a_pool_is_indexed_once_and_the_whole_shop_in_any_list(big_shop: Shop) -> None:
    rec = _recommender(big_shop)
    pool = rec.kinds_named("推荐件外套", Naming([]))
    assert pool and rec._pool_index(pool) is rec._pool_index(rec.kinds_named("推荐件外套", Naming([])))
    assert rec._pool_index(list(big_shop.products.values())) is rec._pool_index(list(big_shop.products.values()))
    assert rec._pool_index(list(big_shop.products.values())[1:]) is not rec._pool_index(list(big_shop.products.values()))


def test_the_comparison_fails_when_a_pools_index_drops_a_product(big_shop: Shop) -> None:
    rec = _recommender(big_shop)
    index_of = rec._index_of

    def losing_one(pool: Any) -> _PoolIndex:
        index = index_of(pool)
        first = min(index.ids)
        return replace(index, ids=index.ids - {first}, by_id=tuple(i for i in index.by_id if i != first))

    rec._index_of = losing_one  # type: ignore[method-assign]
    assert _differences(big_shop, rec)


def test_the_comparison_fails_when_a_pools_kind_words_lose_a_word(big_shop: Shop) -> None:
    rec = _recommender(big_shop)
    index_of = rec._index_of

    def without_outerwear(pool: Any) -> _PoolIndex:
        index = index_of(pool)
        return replace(index, words="\n".join(w for w in index.words.split("\n") if "外套" not in w))

    rec._index_of = without_outerwear  # type: ignore[method-assign]
    assert _differences(big_shop, rec)
