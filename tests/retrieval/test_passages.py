"""Passages: stable ids and citations, promotions by date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.retrieval.passages import build_passages, shop_wide_passages
from bot.shop import Shop, load_shop

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def test_rule_sections_are_cited_as_file_and_heading(mini_shop: Shop) -> None:
    by_id = {p.id: p for p in build_passages(mini_shop)}
    rule = by_id["退换货.md#七天无理由"]
    assert rule.citation == "退换货.md#七天无理由"
    assert rule.type == "rule"
    assert rule.source == "rules/退换货.md"
    assert "普洱茶饼除外" in rule.text


def test_product_passages_carry_product_category_and_facts(mini_shop: Shop) -> None:
    by_id = {p.id: p for p in build_passages(mini_shop)}
    skus = by_id["T101#skus"]
    assert (skus.product_id, skus.category, skus.source) == ("T101", "绿茶", "products/T101.yaml")
    assert "500g礼盒 318元 缺货" in skus.text
    assert by_id["T101#faq-1"].type == "product_faq"
    assert by_id["T101#care"].citation == "T101.yaml#care"
    assert "T101#size_chart" not in by_id  # a tea has no size chart
    assert "不支持7天无理由" in by_id["P301#overview"].text


def test_ids_are_stable_across_builds(mini_shop: Shop) -> None:
    first = [(p.id, p.digest) for p in build_passages(mini_shop)]
    assert first == [(p.id, p.digest) for p in build_passages(mini_shop)]
    assert len({i for i, _ in first}) == len(first)


def test_promotions_only_while_valid(mini_shop: Shop) -> None:
    ids = {p.id for p in build_passages(mini_shop, NOW)}
    assert "promo:D-NEW" in ids
    assert "promo:D-OLD" not in ids  # October's discount has ended
    assert "promo:D-OLD" in {p.id for p in build_passages(mini_shop)}


def test_faq_entries_are_passages(mini_shop: Shop) -> None:
    faq = [p for p in build_passages(mini_shop) if p.type == "faq"]
    assert [(p.id, p.citation) for p in faq] == [("faq#1", "faq.yaml#1")]


@pytest.mark.parametrize("name", ["mini_shop", "snack_shop", "digital_shop"])
def test_shop_wide_passages_are_those_of_no_product(name: str) -> None:
    shop = load_shop(Path(__file__).resolve().parent.parent / "fixtures" / name)
    every = build_passages(shop)
    wide = shop_wide_passages(shop)
    assert wide and wide == [p for p in every if p.product_id is None]
    assert {p.type for p in wide} <= {"rule", "promotion", "faq"}
