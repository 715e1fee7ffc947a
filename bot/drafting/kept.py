"""The drafting tables a big shop takes seconds to build, kept in the data directory between
starts of the same shop files and code (see :mod:`bot.caching`): the products each kind word,
head noun and written size names (:class:`~bot.drafting.products.FinderTables`), the shop's
texts counted for word rarity (:class:`~bot.drafting.frequency.TextCounts`), the products'
texts a recommendation by need searches (:class:`~bot.drafting.recommend.ProductLines`) and
each category's kind words and titles (:class:`~bot.drafting.recommend.CategoryTables`). All
are pure functions of the shop; a shop read from no files is never kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.caching import kept_for_shop
from bot.drafting.frequency import TextCounts
from bot.drafting.products import FinderTables, finder_tables
from bot.drafting.recommend import CategoryTables, ProductLines, category_tables, product_lines
from bot.drafting.relevance import text_counts
from bot.shop.models import Shop

NAME = "drafting-tables"
CODE = ("bot.drafting.kept",)
LIBRARIES = ("numpy",)


@dataclass(frozen=True)
class DraftingTables:
    finder: FinderTables
    texts: TextCounts
    lines: ProductLines
    categories: CategoryTables


def shop_texts(shop: Shop) -> list[str]:
    """Every text a reply can be drafted from, one document each (for word rarity)."""
    from bot.drafting.offers import promo_text

    texts: list[str] = []
    for entry in shop.faq:
        texts.append(f"{entry.q} {entry.a}")
    for doc in shop.rules:
        for section in doc.sections:
            texts.append(f"{doc.title} {section.heading} {section.text}")
    for p in shop.products.values():
        texts.append(f"{p.title} {p.category}")
        texts.extend(f"{k} {v}" for k, v in p.attributes.items())
        texts.extend(p.selling_points)
        texts.extend(t for t in (p.usage, p.care) if t)
        texts.extend(f"{qa.q} {qa.a}" for qa in p.faq)
        texts.append(" ".join(v for s in p.skus for v in s.props.values()))
    for promo in shop.promotions:
        texts.append(promo_text(promo))
    return texts or [shop.info.name]


def build_tables(shop: Shop) -> DraftingTables:
    finder = finder_tables(shop)
    return DraftingTables(finder, text_counts(shop_texts(shop)), product_lines(shop), category_tables(shop, finder))


def _valid(value: Any) -> bool:
    return isinstance(value, DraftingTables)


def drafting_tables(shop: Shop, cache_dir: Path | None) -> DraftingTables:
    """The shop's drafting tables, read back from ``cache_dir`` when kept there."""
    return kept_for_shop(shop, cache_dir, NAME, CODE, lambda: build_tables(shop), _valid, libraries=LIBRARIES)
