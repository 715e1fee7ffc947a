"""A generation read back from disk: terms as ids, passages read by offset, vectors mapped.

The compact forms must answer exactly as the in-memory index built from the same shop, and a
loaded generation must keep answering after later ingests removed its folder."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.retrieval.columns import TokenTable, TokenTableBuilder
from bot.retrieval.hybrid import open_retriever
from bot.retrieval.passages import build_passages, index_text
from bot.retrieval import snapshot as snapshot_module
from bot.retrieval.snapshot import Snapshot
from bot.retrieval.vocab import search_terms, shop_tokenizer
from bot.shop import Shop, load_shop

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
QUERIES = (
    "保温杯怎么清洗", "龙井多少钱", "七天无理由退货", "发货时间", "有没有优惠券", "墨绿色还有吗",
    "这个茶叶怎么泡", "满减活动", "退换货运费谁出", "没有这个词的问题",
)


def test_token_table_gives_back_every_row(mini_shop: Shop, tmp_path: Path) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    rows = [search_terms(tokenizer, index_text(p)) for p in build_passages(mini_shop)] + [[]]
    table = TokenTable.from_lists(rows)
    assert len(table) == len(rows)
    assert [table[i] for i in range(len(rows))] == rows
    assert table.lists() == rows
    table.save(tmp_path)
    again = TokenTable.load(tmp_path)
    assert again.lists() == rows
    assert len(again.terms) == len({t for r in rows for t in r})  # each term stored once


def test_rows_set_from_compact_batches_equal_rows_set_one_by_one(mini_shop: Shop) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    rows = [search_terms(tokenizer, index_text(p)) for p in build_passages(mini_shop)] + [[]]
    one_by_one = TokenTableBuilder(len(rows))
    compact = TokenTableBuilder(len(rows))
    order = list(range(len(rows)))[::-1]  # rows arrive in any order, in batches of 7
    for start in range(0, len(order), 7):
        batch = order[start : start + 7]
        for i in batch:
            one_by_one.set(i, rows[i])
        prepared = TokenTable.from_lists([rows[i] for i in batch])
        assert prepared.lists() == [rows[i] for i in batch] and len(prepared) == len(batch)
        compact.set_rows(batch, prepared)
    assert compact.build().lists() == one_by_one.build().lists() == rows
    with pytest.raises(ValueError):
        compact.set_rows(batch + [0], prepared)


def test_bm25_built_from_term_ids_scores_every_term_as_bm25s_built_from_strings(mini_shop: Shop) -> None:
    import bm25s

    tokenizer = shop_tokenizer(mini_shop)
    rows = [search_terms(tokenizer, index_text(p)) for p in build_passages(mini_shop)] + [[]]
    ours = snapshot_module._bm25(TokenTable.from_lists(rows))
    theirs = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    theirs.index([r or [snapshot_module.EMPTY_TERM] for r in rows], show_progress=False)
    assert set(ours.vocab_dict) == set(theirs.vocab_dict)

    def postings(index: object, term: str) -> dict[int, float]:
        col = index.vocab_dict[term]  # type: ignore[attr-defined]
        sc = index.scores  # type: ignore[attr-defined]
        a, b = sc["indptr"][col], sc["indptr"][col + 1]
        return {int(d): round(float(v), 5) for d, v in zip(sc["indices"][a:b], sc["data"][a:b])}

    terms = {t for r in rows for t in r} | {snapshot_module.EMPTY_TERM}
    assert all(postings(ours, t) == postings(theirs, t) for t in terms)
    assert set(postings(ours, snapshot_module.EMPTY_TERM)) == {len(rows) - 1}  # the row with no terms


@pytest.mark.parametrize("fixture", ["mini_shop", "snack_shop"])
def test_loaded_generation_answers_as_the_in_memory_index(fixture: str, tmp_path: Path) -> None:
    shop = load_shop(FIXTURES / fixture)
    in_memory = open_retriever(shop, Settings())
    on_disk = open_retriever(shop, Settings(), persist_dir=tmp_path / "index")
    reopened = open_retriever(load_shop(FIXTURES / fixture), Settings(), persist_dir=tmp_path / "index")
    assert reopened.last_report is not None and reopened.last_report.unchanged
    assert reopened.snapshot.folder is not None  # read back, not rebuilt
    for query in QUERIES:
        for kwargs in ({}, {"types": ["rule", "faq"]}, {"now": NOW}):
            want = [(h.passage, h.score) for h in in_memory.search(query, k=8, **kwargs)]  # type: ignore[arg-type]
            for retriever in (on_disk, reopened):
                got = [(h.passage, h.score) for h in retriever.search(query, k=8, **kwargs)]  # type: ignore[arg-type]
                assert got == want, (query, kwargs)
    snap = reopened.snapshot
    assert [snap.passages[i] for i in range(len(snap))] == build_passages(shop)
    assert snap.digests == {p.id: p.digest for p in build_passages(shop)}


def test_a_loaded_generation_stays_readable_after_later_ingests_remove_it(tmp_path: Path) -> None:
    shop_dir = Path(shutil.copytree(FIXTURES / "mini_shop", tmp_path / "shop"))
    index = tmp_path / "index"
    open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    old = open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)
    before = [h.passage.id for h in old.search("保温杯怎么清洗", k=5)]
    folder = old.snapshot.folder
    assert folder is not None and folder.is_dir()
    sheet = shop_dir / "products" / "W202.yaml"
    for extra in ("care: 用软布清洗\n", "usage: 办公室、通勤\n"):
        sheet.write_text(sheet.read_text(encoding="utf-8") + extra, encoding="utf-8")
        open_retriever(load_shop(shop_dir), Settings(), persist_dir=index)  # two newer generations
    assert not folder.exists()  # only the two newest generations are kept on disk
    old.snapshot.passages._kept.clear()  # type: ignore[attr-defined]  # read from the file again
    hits = old.search("保温杯怎么清洗", k=5)
    assert [h.passage.id for h in hits] == before
    assert all(h.passage.text for h in hits)
    assert len(list(old.snapshot.passages)) == len(old.snapshot)  # every passage, read in turn


def test_a_snapshot_of_an_older_format_is_rebuilt_not_misread(tmp_path: Path) -> None:
    shop = load_shop(FIXTURES / "mini_shop")
    index = tmp_path / "index"
    first = open_retriever(shop, Settings(), persist_dir=index)
    assert first.snapshot.folder is not None
    meta = first.snapshot.folder / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"format": 2', '"format": 1'), encoding="utf-8")
    with pytest.raises(ValueError):
        Snapshot.load(first.snapshot.folder)
    again = open_retriever(load_shop(FIXTURES / "mini_shop"), Settings(), persist_dir=index)
    assert again.last_report is not None and not again.last_report.unchanged
    assert again.last_report.embedded == len(again.snapshot)  # nothing reused from the unreadable one
    assert [h.passage.id for h in again.search("龙井多少钱", k=3)] == [
        h.passage.id for h in first.search("龙井多少钱", k=3)
    ]


def test_a_loaded_generation_maps_its_terms_and_postings_and_scores_as_built(tmp_path: Path) -> None:
    import json

    import numpy as np

    shop = load_shop(FIXTURES / "snack_shop")
    in_memory = open_retriever(shop, Settings()).snapshot
    open_retriever(shop, Settings(), persist_dir=tmp_path / "index")
    reopened = open_retriever(load_shop(FIXTURES / "snack_shop"), Settings(), persist_dir=tmp_path / "index").snapshot
    assert reopened.folder is not None and reopened.postings_in_order
    # Mapped, not read: a query pages in only what it scores.
    assert isinstance(reopened.table.ids, np.memmap)
    assert isinstance(reopened.bm25.scores["data"], np.memmap)
    assert isinstance(reopened.bm25.scores["indices"], np.memmap)
    # A generation saved before the postings were known to be sorted is checked, and reads the same.
    meta = reopened.folder / "meta.json"
    doc = json.loads(meta.read_text(encoding="utf-8"))
    del doc["postings_in_order"]
    meta.write_text(json.dumps(doc), encoding="utf-8")
    older = Snapshot.load(reopened.folder)
    assert not older.postings_in_order
    tokenizer = shop_tokenizer(shop)
    rows = np.arange(0, len(in_memory), 3)
    for query in QUERIES:
        terms = search_terms(tokenizer, query)
        want = in_memory.bm25_scores(terms)
        for snap in (reopened, older):
            np.testing.assert_allclose(snap.bm25_scores(terms), want)
            np.testing.assert_allclose(snap.bm25_scores(terms, rows), want[rows])
