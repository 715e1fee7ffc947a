"""Recommendations by need look only at the products that have a wished-for word (found in
one pass over the shop's texts), not at every product: they must be exactly the ones that
scoring every product gives, on every fixture shop and on a generated big shop."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scale_shop import generate_shop
from bot.drafting.facts import FactsBuilder
from bot.retrieval.linker import EntityLinker
from bot.shop import Shop, load_shop

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
WISHES = (
    "推荐一款保暖的", "有没有适合送女朋友的", "便宜点的有吗 100以内", "敏感肌能用的推荐下", "适合新生儿的",
    "想要纯棉的", "送男朋友 预算200左右", "有什么好喝的茶", "适合夏天穿的", "防水的", "充电快的", "孕妇能用吗",
    "推荐个性价比高的", "有小样吗", "宝宝穿的 加厚", "xl码的外套", "补水保湿", "无糖的零食", "磁吸", "送长辈的礼物",
)


def _shops() -> list[Shop]:
    return [load_shop(d) for d in SHOPS]


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _all_scored(recommender: Any) -> Any:
    """The same recommender scoring every product, as before the word index."""
    recommender.matching = lambda q: set(recommender.shop.products)
    return recommender


def _compare(shop: Shop) -> int:
    linker = EntityLinker(shop)
    fast = FactsBuilder(shop, None, linker).recommender  # type: ignore[arg-type]
    slow = _all_scored(FactsBuilder(shop, None, linker).recommender)  # type: ignore[arg-type]
    buyer = next(iter(shop.buyers.values()))
    pool = list(shop.products.values())
    seen = 0
    for wish in WISHES:
        q = fast.relevance.question(wish)
        for kind_named in (False, True):
            got = fast.by_need(wish, q, pool, NOW, buyer, kind_named=kind_named, message=wish)
            want = slow.by_need(wish, q, pool, NOW, buyer, kind_named=kind_named, message=wish)
            assert [r.product_id for r in got] == [r.product_id for r in want], (shop.info.name, wish, kind_named)
            seen += len(got)
    return seen


@pytest.mark.parametrize("shop_dir", SHOPS, ids=[d.name for d in SHOPS])
def test_recommendations_by_need_equal_scoring_every_product(shop_dir: Path) -> None:
    _compare(load_shop(shop_dir))


def test_recommendations_by_need_equal_scoring_every_product_of_a_big_shop(big_shop: Shop) -> None:
    assert _compare(big_shop) > 0  # some wishes are met, so the comparison is not of empty lists


def _by_need_sorting_every_product(
    rec: Any, question: str, q: Any, pool: list[Any], buyer: Any, *, kind_named: bool, exclude: tuple[str, ...] = ()
) -> list[str]:
    """Recommendations by need as worked out before: every product of the pool priced
    against the budget and scored, all of them sorted."""
    from decimal import Decimal

    from bot.drafting.matching import flat
    from bot.drafting.recommend import _AROUND, MAX_RECOMMEND, budget_of, product_text
    from bot.drafting.relevance import Question
    from bot.text.normalize import normalize

    kind_words = {flat(normalize(w)) for p in pool for w in (p.category, *p.title.split())} if kind_named else set()
    wishes = Question(tuple(t for t in q.terms if not any(t.word in k for k in kind_words)))
    budget = budget_of(question)
    scored = []
    for p in pool:
        if p.id in exclude:
            continue
        if budget is not None:
            amount, loose = budget
            limit = amount * Decimal(str(_AROUND)) if loose else amount
            if rec.unit_price(p, NOW, buyer) > limit:
                continue
        scored.append((rec.relevance.score(wishes, product_text(p)), p))
    if not kind_named:
        scored = [sp for sp in scored if sp[0] > 0]
    scored.sort(key=lambda sp: (-int(sp[1].in_stock), -sp[0], sp[1].id))
    return [p.id for _, p in scored[:MAX_RECOMMEND]]


def _pools(shop: Shop) -> list[tuple[list[Any], bool]]:
    by_category: dict[str, list[Any]] = {}
    for p in shop.products.values():
        by_category.setdefault(p.category, []).append(p)
    out: list[tuple[list[Any], bool]] = [(list(shop.products.values()), False)]
    out += [(ps, True) for ps in by_category.values()]
    out.append(([p for ps in by_category.values() for p in ps[::2]], True))  # a pool in no particular order
    return out


def _against_sorting(shop: Shop, rec: Any = None) -> list[tuple[str, int]]:
    rec = rec or FactsBuilder(shop, None, EntityLinker(shop)).recommender  # type: ignore[arg-type]
    buyer = next(iter(shop.buyers.values()))
    wrong = []
    for wish in WISHES:
        q = rec.relevance.question(wish)
        for i, (pool, kind_named) in enumerate(_pools(shop)):
            for exclude in ((), tuple(p.id for p in pool[:2])):
                got = [r.product_id for r in rec.by_need(wish, q, pool, NOW, buyer, kind_named=kind_named, exclude=exclude, message=wish)]
                if got != _by_need_sorting_every_product(rec, wish, q, pool, buyer, kind_named=kind_named, exclude=exclude):
                    wrong.append((wish, i))
    return wrong


@pytest.mark.parametrize("shop_dir", SHOPS, ids=[d.name for d in SHOPS])
def test_recommendations_by_need_equal_sorting_every_product_of_the_pool(shop_dir: Path) -> None:
    assert _against_sorting(load_shop(shop_dir)) == []


def test_recommendations_by_need_equal_sorting_every_product_of_a_big_shops_pools(big_shop: Shop) -> None:
    assert _against_sorting(big_shop) == []


def test_the_comparison_fails_when_the_word_index_drops_a_product(big_shop: Shop) -> None:
    rec = FactsBuilder(big_shop, None, EntityLinker(big_shop)).recommender  # type: ignore[arg-type]
    full = rec.matching
    rec.matching = lambda q: set(sorted(full(q))[1:])
    assert _against_sorting(big_shop, rec)
