"""The on-disk index: incremental ingest, atomic swap, chroma without its default embedder."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import chromadb
import pytest

from bot.config import Settings
from bot.errors import ShopInvalid
from bot.retrieval.embedders import HashingEmbedder
from bot.retrieval.hybrid import open_retriever
from bot.retrieval.store import chroma_settings
from bot.shop import load_shop

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MINI, tmp_path / "shop"))


def test_second_ingest_of_an_unchanged_shop_embeds_nothing(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index).last_report
    assert first is not None and first.embedded == first.passages > 0
    again = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index).last_report
    assert again is not None and again.unchanged and again.embedded == 0


def test_only_changed_file_is_reembedded(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    sheet = shop_dir / "products" / "W202.yaml"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "care: 不可放入洗碗机，用软布清洗\n", encoding="utf-8")
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    report = retriever.last_report
    assert report is not None
    assert report.files_changed == ["products/W202.yaml"]
    assert report.embedded == 1  # the new care passage; W202's other passages are unchanged
    assert retriever.search("保温杯能放洗碗机吗", now=NOW)[0].passage.id == "W202#care"


def test_removed_rule_disappears_from_results(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    (shop_dir / "rules" / "发货.md").unlink()
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    assert retriever.last_report is not None and retriever.last_report.removed == 1
    assert all(h.passage.source != "rules/发货.md" for h in retriever.search("发货时间", k=20, now=NOW))
    assert retriever.store.collection.count() == retriever.snapshot.vector_doc_count  # a document per product, per other passage


def test_refresh_swaps_in_the_new_index(shop_dir: Path, tmp_path: Path) -> None:
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=tmp_path / "index")
    faq = shop_dir / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8") + "- {q: 可以送人吗, a: 可以写贺卡}\n", encoding="utf-8")
    before = retriever.snapshot
    report = retriever.refresh(load_shop(shop_dir))
    assert report.embedded == 1
    assert retriever.snapshot is not before
    assert retriever.search("能帮忙写贺卡吗", now=NOW)[0].passage.id == "faq#2"


def test_broken_shop_file_leaves_previous_index_usable(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    (shop_dir / "products" / "T101.yaml").write_text("id: T101\ntitle: [半截", encoding="utf-8")
    with pytest.raises(ShopInvalid):
        retriever.refresh(load_shop(shop_dir))
    assert retriever.search("龙井", now=NOW)[0].passage.product_id == "T101"
    reopened = retriever.store.current()
    assert reopened is not None and "T101#overview" in reopened.pos


def test_failed_ingest_keeps_the_live_generation(shop_dir: Path, tmp_path: Path) -> None:
    class Exploding(HashingEmbedder):
        def embed_array(self, texts, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk full")

    index = tmp_path / "index"
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    sheet = shop_dir / "products" / "P301.yaml"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("云南勐海", "云南临沧"), encoding="utf-8")
    retriever.embedder = Exploding()
    with pytest.raises(RuntimeError):
        retriever.refresh(load_shop(shop_dir))
    assert "勐海" in (retriever.passage("P301#attributes") or pytest.fail()).text
    assert "勐海" in retriever.store.current().passages[retriever.store.current().pos["P301#attributes"]].text  # type: ignore[union-attr]


def test_chroma_runs_without_telemetry_or_default_embedder(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    collection = retriever.store.collection
    assert retriever.store.client.get_settings().anonymized_telemetry is False
    assert collection.configuration.get("embedding_function") is None
    # Without vectors chroma refuses: it has no embedder of its own to fall back on.
    with pytest.raises(ValueError):
        collection.add(ids=["x"], documents=["只有文字"])
    with pytest.raises(ValueError):
        collection.query(query_texts=["只有文字"])
    client = chromadb.PersistentClient(path=str(index), settings=chroma_settings())
    assert client.get_collection(collection.name, embedding_function=None).count() == retriever.snapshot.vector_doc_count


def test_hashing_embedder_is_deterministic() -> None:
    a, b = HashingEmbedder(), HashingEmbedder()
    text = ["保温杯墨绿色 500ml"]
    assert a.embed(text) == b.embed(text)
    assert len(a.embed(text)[0]) == a.dim
    assert a.embed([""])[0] == [0.0] * a.dim


def test_refresh_if_changed_only_reingests_a_changed_shop(shop_dir: Path, tmp_path: Path) -> None:
    from bot.retrieval.watch import refresh_if_changed

    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=tmp_path / "index")
    assert refresh_if_changed(retriever, shop_dir) is None
    promos = shop_dir / "promotions.yaml"
    promos.write_text(promos.read_text(encoding="utf-8").replace("满150送竹制茶盘", "满150送紫砂茶宠"), encoding="utf-8")
    seen: list[str] = []
    report = refresh_if_changed(retriever, shop_dir, on_shop=lambda s: seen.append(s.content_hash))
    assert report is not None and report.files_changed == ["promotions.yaml"]
    assert seen == [retriever.snapshot.shop_hash]
    assert retriever.search("送茶宠的活动", now=NOW)[0].passage.id == "promo:G-TRAY"


def test_query_falls_back_to_bm25_when_remote_embedder_fails(shop_dir: Path) -> None:
    from bot.errors import RetryModel

    retriever = open_retriever(load_shop(shop_dir), Settings(), persist_dir=None)

    class Down(HashingEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            raise RetryModel("provider down")

    retriever.embedder = Down()
    hits = retriever.search("普洱茶饼是哪里产的", now=NOW)
    assert "P301" in [h.passage.product_id for h in hits[:3]]


def test_reopened_index_answers_like_the_fresh_one(shop_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    fresh = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    reopened = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    assert reopened.last_report is not None and reopened.last_report.unchanged
    for query in ("保温杯能装开水吗", "龙井多少钱一斤", "几天发货", "有什么优惠"):
        for mode in ("hybrid", "bm25"):
            a = fresh.search(query, now=NOW, mode=mode)
            b = reopened.search(query, now=NOW, mode=mode)
            assert [h.passage.id for h in a] == [h.passage.id for h in b] and a, query
