"""Hybrid search over a real chroma index (in a temp dir), offline embedder, no network."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.config import Settings
from bot.retrieval.hybrid import HybridRetriever, open_retriever
from bot.shop import Shop

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture(scope="module")
def retriever(mini_shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> HybridRetriever:
    return open_retriever(mini_shop, Settings(), persist_dir=tmp_path_factory.mktemp("index"))


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.passage.id for h in hits]


def test_traditional_question_finds_puer(retriever: HybridRetriever) -> None:
    hits = retriever.search("你們有賣普洱茶嗎", now=NOW)
    assert hits[0].passage.product_id == "P301"


def test_rule_question_finds_the_rule_with_citation(retriever: HybridRetriever) -> None:
    hits = retriever.search("拆了封的能七天无理由退吗", now=NOW)
    assert "退换货.md#七天无理由" in [h.passage.citation for h in hits[:3]]


def test_expired_promotion_is_never_returned(retriever: HybridRetriever) -> None:
    hits = retriever.search("茶具打九折的活动", k=20, now=NOW)
    assert "promo:D-OLD" not in ids(hits)
    october = datetime.fromisoformat("2026-10-15T10:00:00+08:00")
    assert "promo:D-OLD" in ids(retriever.search("茶具打九折的活动", k=20, now=october))


def test_filters_by_product_and_type(retriever: HybridRetriever) -> None:
    hits = retriever.search("怎么保存", k=10, product_id="T101", now=NOW)
    assert hits and {h.passage.product_id for h in hits} == {"T101"}
    assert ids(hits)[0] == "T101#care"
    promos = retriever.search("优惠", k=10, types=["promotion"], now=NOW)
    assert promos and {h.passage.type for h in promos} == {"promotion"}


def test_each_mode_answers(retriever: HybridRetriever) -> None:
    for mode in ("hybrid", "bm25", "vector"):
        assert retriever.search("保温杯墨绿色多少钱", mode=mode, now=NOW)[0].passage.product_id == "W202"


@pytest.mark.parametrize(
    "query",
    ["", "   ", "？？！！", "🙂🍵🙂", "Do you ship to Germany?", "普洱" * 2500, "\x00\x01", "😀" * 5000],
)
def test_bad_queries_never_raise(retriever: HybridRetriever, query: str) -> None:
    hits = retriever.search(query, now=NOW)
    assert isinstance(hits, list) and len(hits) <= 5


def test_zero_k_and_unknown_filters_give_nothing(retriever: HybridRetriever) -> None:
    assert retriever.search("普洱", k=0) == []
    assert retriever.search("普洱", product_id="NOPE") == []
    assert retriever.search("普洱", types=["no_such_type"]) == []
