"""What goes with a product is read off its categories lazily, up to the first products in
stock, and the products of the same kind compare titles made once: they must be the ones
sorting and filtering every product of those categories gives, for every product of every
fixture shop and of a generated big shop."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from benchmarks.scale_shop import generate_shop
from bot.drafting.facts import FactsBuilder
from bot.drafting.matching import core, flat
from bot.drafting.recommend import MAX_RECOMMEND, Recommender
from bot.retrieval.linker import EntityLinker
from bot.shop import Shop, load_shop
from bot.shop.models import Product
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
QUESTIONS = (
    "配什么裤子好看", "再搭个什么配件好", "有没有搭配的外套", "推荐个杯子", "配套的茶具", "还有什么零食",
    "宝宝用的", "配个充电线", "口红配什么", "随便推荐", "", "衬衫配什么", "有没有同系列的",
)


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _related_by_sorting(rec: Recommender, focus: Product, question: str) -> list[str]:
    """What goes with ``focus`` as worked out before: every product of the matching
    categories sorted, then those in stock first."""
    shop = rec.shop
    wanted = core(question)
    related = [shop.products[r] for r in focus.related if r in shop.products and r != focus.id]

    def category_match(category: str) -> int:
        return sum(1 for ch in set(category) if ch in wanted)

    matching = [p for p in related if category_match(p.category)]
    if not matching:
        matching = sorted(
            (p for cat, ps in rec._by_category.items() if category_match(cat) for p in ps if p.id != focus.id),
            key=lambda p: (-category_match(p.category), p.id),
        )
    pool = matching or related
    pool = [p for p in pool if p.in_stock] + [p for p in pool if not p.in_stock]
    return [p.id for p in pool[:MAX_RECOMMEND]]


def _same_kind_by_scan(rec: Recommender, focus: Product, words: list[str], heads: dict[str, set[str]]) -> list[str]:
    ws = [flat(normalize(w)) for w in words if w]
    out = []
    for p in rec._by_category.get(focus.category, []):
        title = flat(normalize(p.title))
        if ws and not any(w in title or w == flat(normalize(p.category)) for w in ws):
            continue
        if not ws and p.id != focus.id and not (heads.get(p.id, set()) & heads.get(focus.id, set())):
            continue
        out.append(p.id)
    return out


def _mismatches(shop: Shop, rec: Recommender | None = None) -> list[tuple[str, str]]:
    builder = FactsBuilder(shop, None, EntityLinker(shop))  # type: ignore[arg-type]
    rec = rec or builder.recommender
    finder = builder.finder
    buyer = next(iter(shop.buyers.values()))
    heads = {pid: finder.head_nouns(pid) for pid in shop.products}
    wrong = []
    for focus in shop.products.values():
        for question in QUESTIONS:
            got = [r.product_id for r in rec.related(focus, question, NOW, buyer)]
            if got != _related_by_sorting(rec, focus, question):
                wrong.append((focus.id, question))
        for words in ([], [focus.category], [focus.title.split()[-1]], ["没有的词"]):
            got = [p.id for p in rec.same_kind(focus, words, finder.head_nouns)]
            if got != _same_kind_by_scan(rec, focus, words, heads):
                wrong.append((focus.id, "|".join(words)))
    return wrong


@pytest.mark.parametrize("root", SHOPS, ids=lambda p: p.name)
def test_fixture_shops(root: Path) -> None:
    assert _mismatches(load_shop(root)) == []


def test_a_generated_big_shop(big_shop: Shop) -> None:
    assert _mismatches(big_shop) == []


def test_the_comparison_fails_when_a_category_loses_a_product(big_shop: Shop) -> None:
    """Each category without its first product in stock: what goes with a product changes."""
    rec = FactsBuilder(big_shop, None, EntityLinker(big_shop)).recommender  # type: ignore[arg-type]
    for category, products in rec._by_id.items():
        first = next((p for p in products if p.in_stock), None)
        rec._by_id[category] = [p for p in products if p is not first]
    assert _mismatches(big_shop, rec)
