"""A big shop's passages prepared in worker processes give the terms, the vectors and the
index that preparing them in the process gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot import procpool
from bot.config import Settings
from bot.retrieval import ingest_workers
from bot.retrieval.embedders import HashingEmbedder
from bot.retrieval.hybrid import open_retriever
from bot.retrieval.passages import build_passages, index_text
from bot.retrieval.vocab import search_terms, shop_tokenizer
from bot.shop import load_shop
from bot.text.normalize import normalize

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
QUERIES = ("保温杯怎么清洗", "龙井多少钱", "七天无理由退货", "发货时间", "墨绿色还有吗", "满减活动")


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Worker processes for any number of passages, two of them even on a one-core machine;
    the list gets the number of batches each pool was given."""
    monkeypatch.setattr(ingest_workers, "POOL_FROM_PASSAGES", 1)
    monkeypatch.setattr(procpool, "cores", lambda: 2)
    sent: list[int] = []
    real = procpool.map_chunks

    def counted(make, setup, chunks, **kw):  # type: ignore[no-untyped-def]
        sent.append(len(chunks))
        return real(make, setup, chunks, **kw)

    monkeypatch.setattr(procpool, "map_chunks", counted)
    return sent


def test_workers_prepare_every_batch_as_the_process_does(pooled: list[int]) -> None:
    shop = load_shop(KNOWLEDGE)
    tokenizer = shop_tokenizer(shop)
    texts = [index_text(p) for p in build_passages(shop)]
    embedder = HashingEmbedder()
    batches = list(ingest_workers.prepare_passages(tokenizer, embedder, texts, 50))
    assert pooled == [len(batches)] and len(batches) == -(-len(texts) // 50)
    assert [t for b in batches for t in b.terms] == [search_terms(tokenizer, t) for t in texts]
    for k, b in enumerate(batches):
        # Embedded where they were cut, so their texts do not travel back.
        assert b.vectors is not None and b.norms is None
        norms = [normalize(t) for t in texts[k * 50 : (k + 1) * 50]]
        np.testing.assert_allclose(b.vectors, embedder.embed_array(norms, normalized=True), atol=1e-6)
        assert len(b.table.terms) == len(set(b.table.terms)) and int(b.table.ids.max()) < len(b.table.terms)


def test_batches_prepared_here_keep_their_texts_normalised_line_by_line() -> None:
    shop = load_shop(KNOWLEDGE)
    tokenizer = shop_tokenizer(shop)
    texts = [index_text(p) for p in build_passages(shop)]
    batches = list(ingest_workers.prepare_passages(tokenizer, HashingEmbedder(), texts, 50))
    norms = [n for b in batches for n in b.norms or []]
    assert [n.split("\n") for n in norms] == [[normalize(line) for line in t.split("\n")] for t in texts]
    assert [t for b in batches for t in b.terms] == [search_terms(tokenizer, t) for t in texts]


def test_a_model_embedder_gets_terms_from_the_workers_and_embeds_here(pooled: list[int]) -> None:
    shop = load_shop(KNOWLEDGE)
    tokenizer = shop_tokenizer(shop)
    texts = [index_text(p) for p in build_passages(shop)][:120]
    words = HashingEmbedder(tokenizer=tokenizer)  # not what a worker can rebuild
    batches = list(ingest_workers.prepare_passages(tokenizer, words, texts, 50))
    assert pooled == [3]
    assert all(b.vectors is None for b in batches)
    assert [t for b in batches for t in b.terms] == [search_terms(tokenizer, t) for t in texts]


def test_an_index_built_through_the_workers_answers_as_one_built_here(
    pooled: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shop = load_shop(KNOWLEDGE)
    through_workers = open_retriever(shop, Settings(), persist_dir=tmp_path / "pooled")
    assert pooled == [1]  # the demo's passages fit one batch
    monkeypatch.setattr(ingest_workers, "POOL_FROM_PASSAGES", 10**9)
    here = open_retriever(shop, Settings(), persist_dir=tmp_path / "here")
    assert pooled == [1]
    assert through_workers.snapshot.tokens.lists() == here.snapshot.tokens.lists()
    for query in QUERIES:
        want = [(h.passage, round(h.score, 5)) for h in here.search(query, k=8)]
        got = [(h.passage, round(h.score, 5)) for h in through_workers.search(query, k=8)]
        assert got == want, query
