"""chroma holds one document per product and one per other passage; passages are still
ranked by their own vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import bot.retrieval.hybrid as hybrid
from bot.config import Settings
from bot.retrieval.hybrid import open_retriever
from bot.retrieval.vectordocs import product_doc_id
from bot.shop import load_shop

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_shop"


def _queries() -> list[str]:
    data = yaml.safe_load((ROOT / "eval" / "retrieval" / "queries.yaml").read_text(encoding="utf-8"))
    return [q["q"] for q in data["queries"]]


def test_the_index_holds_a_document_per_product(tmp_path: Path) -> None:
    shop = load_shop(MINI)
    retriever = open_retriever(shop, Settings(), persist_dir=tmp_path / "index")
    ids = set(retriever.store.collection.get(include=[])["ids"])
    products = {product_doc_id(pid) for pid in shop.products}
    others = {p.id for p in (retriever.snapshot.passages[i] for i in range(len(retriever.snapshot))) if not p.product_id}
    assert ids == products | others


def test_the_graph_path_ranks_as_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer documents than a query fetches (the mini shop has 15), the graph proposes
    every product, so scoring their passages must give exactly what scoring every passage
    gives."""
    shop = load_shop(MINI)
    retriever = open_retriever(shop, Settings())
    assert retriever.snapshot.vector_doc_count < retriever.fetch
    queries = _queries() + ["保温杯怎么清洗", "龙井多少钱", "墨绿色还有吗", "这个茶叶怎么泡", "满减活动"]
    exact = {(q, m): [(h.passage.id, h.score) for h in retriever.search(q, k=5, mode=m)] for q in queries for m in ("vector", "hybrid")}
    monkeypatch.setattr(hybrid, "EXACT_ROWS", 0)  # every unfiltered query through chroma
    for (q, m), want in exact.items():
        assert [(h.passage.id, h.score) for h in retriever.search(q, k=5, mode=m)] == want, (q, m)


def test_a_changed_product_rewrites_only_its_document(tmp_path: Path) -> None:
    shop_dir = Path(shutil.copytree(MINI, tmp_path / "shop"))
    index = tmp_path / "index"
    first = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)

    def digests() -> dict[str, str]:
        got = first.store.collection.get(include=["metadatas"])
        return {i: m["digest"] for i, m in zip(got["ids"], got["metadatas"])}

    before = digests()
    sheet = shop_dir / "products" / "W202.yaml"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "care: 不可放入洗碗机，用软布清洗\n", encoding="utf-8")
    again = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    assert again.last_report is not None and again.last_report.embedded == 1
    after = digests()
    assert set(after) == set(before)
    assert {i for i in after if after[i] != before[i]} == {product_doc_id("W202")}
    assert again.search("保温杯能放洗碗机吗", mode="vector")[0].passage.product_id == "W202"
