"""Hybrid search: BM25 over jieba terms plus vectors in chroma, fused by reciprocal rank.

Filters (type, product, promotions valid at ``now``) are applied on in-memory arrays:
BM25 scores are masked (a product's own rows are scored directly). Vectors are scored
exactly in memory when the index is small (≤ EXACT_ROWS) or the filter leaves few rows,
and otherwise come from chroma's HNSW index, unfiltered (chroma's metadata filter is slow
on large collections), with excluded rows dropped afterwards. Candidates from chroma are
re-scored against the snapshot's vectors so a query sees one consistent generation.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.caching import kept_for_shop
from bot.config import Settings
from bot.errors import XiaoerError
from bot.retrieval.embedders import Embedder, HashingEmbedder, make_embedder
from bot.retrieval.linker import EntityLinker
from bot.retrieval.passages import Hit, Passage, build_passages
from bot.retrieval.snapshot import Snapshot
from bot.retrieval.store import IndexStore, IngestReport
from bot.retrieval.topk import top_rows
from bot.retrieval.vectordocs import product_of
from bot.retrieval.vocab import search_terms, shop_words
from bot.shop.models import Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 256  # longer buyer messages are cut; the start carries the question
RRF_K = 60
EXACT_ROWS = 20_000  # up to this many passages vectors are scored exactly, in memory
FOCUS_MIN_SCORE = 0.5  # linker confidence needed before one product's passages are favoured
_SEARCHABLE = re.compile(r"[\u4e00-\u9fff a-z0-9]")


class Retriever(Protocol):
    def search(
        self,
        query: str,
        *,
        k: int = 5,
        types: Sequence[str] | None = None,
        product_id: str | None = None,
        now: datetime | None = None,
    ) -> list[Hit]: ...


def rrf(rankings: Sequence[tuple[Sequence[int], float]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of ranked lists of row numbers, each with a weight."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, row in enumerate(ranking):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank + 1)
    return fused


def _dot(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``matrix @ q`` on one thread. A BLAS matrix-vector product may spread over threads
    that wait for each other when the cores are busy (12 ms instead of 0.4 ms for 10k rows
    on a loaded 2-core machine); einsum's loop stays predictable."""
    return np.einsum("ij,j->i", matrix, q)


def _candidate_rows(snap: Snapshot, doc_ids: Sequence[str]) -> np.ndarray:
    """Rows of the passages of the vector documents ``doc_ids`` (unknown ids are skipped)."""
    parts: list[np.ndarray] = []
    for doc_id in doc_ids:
        product = product_of(doc_id)
        if product is not None:
            parts.append(snap.rows_of(product))
        else:
            row = snap.pos.get(doc_id)
            if row is not None:
                parts.append(np.array([row], dtype=np.int64))
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


class HybridRetriever:
    """Search one shop's passages. ``mode`` "hybrid" (default), "bm25" or "vector"."""

    def __init__(
        self,
        store: IndexStore,
        snapshot: Snapshot,
        tokenizer: ShopTokenizer,
        embedder: Embedder,
        *,
        fetch: int = 50,
        bm25_weight: float = 1.0,
        vector_weight: float = 1.0,
        min_similarity: float = 0.1,
        linker: EntityLinker | None = None,
        focus_weight: float = 1.0,
        cache_dir: Path | None = None,
    ) -> None:
        if fetch <= 0:
            raise ValueError("fetch must be positive")
        if bm25_weight < 0 or vector_weight < 0 or bm25_weight + vector_weight == 0:
            raise ValueError("weights must be non-negative and not both zero")
        self.store = store
        self._snapshot = snapshot
        self.tokenizer = tokenizer
        self.embedder = embedder
        self.fetch = fetch
        self.bm25_weight = bm25_weight
        self.vector_weight = vector_weight
        self.min_similarity = min_similarity
        self.linker = linker
        self.focus_weight = focus_weight
        self.last_report: IngestReport | None = None
        self._refresh_lock = threading.Lock()
        self._cache_dir = cache_dir  # where the linker of a refreshed shop is kept

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def passage(self, passage_id: str) -> Passage | None:
        snap = self._snapshot
        row = snap.pos.get(passage_id)
        return snap.passages[row] if row is not None else None

    # --- search --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        types: Sequence[str] | None = None,
        product_id: str | None = None,
        now: datetime | None = None,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """The ``k`` passages that best answer ``query``. Empty, over-long, foreign or
        emoji-only queries give an empty or best-effort list, never an exception."""
        if mode not in ("hybrid", "bm25", "vector"):
            raise ValueError(f"unknown mode {mode!r}")
        snap = self._snapshot  # one generation for the whole query
        if k <= 0 or not query or len(snap) == 0:
            return []
        norm = normalize(query[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
        if not _SEARCHABLE.search(norm):
            return []
        mask = snap.mask(types=list(types) if types is not None else None, product_id=product_id, now=now)
        if mask is not None and not mask.any():
            return []
        fetch = max(self.fetch, k * 4)
        rankings: list[tuple[list[int], float]] = []
        terms = search_terms(self.tokenizer, norm, normalized=True) if mode != "vector" else []
        if mode in ("hybrid", "bm25"):
            rankings.append((self._bm25(snap, terms, mask, fetch), self.bm25_weight or 1.0))
        if mode == "hybrid" and product_id is None and self.linker is not None:
            focused = self._focused(snap, norm, terms, mask, fetch)
            if focused:
                rankings.append((focused, self.focus_weight))
        if mode in ("hybrid", "vector"):
            try:
                rankings.append((self._vector(snap, norm, mask, fetch), self.vector_weight or 1.0))
            except XiaoerError as exc:  # a remote embedder failing must not fail the turn
                log.warning("vector search unavailable, BM25 only: %s", exc)
        fused = rrf(rankings)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [Hit(passage=snap.passages[row], score=round(score, 6)) for row, score in best]

    def _bm25(self, snap: Snapshot, terms: list[str], mask: np.ndarray | None, fetch: int) -> list[int]:
        if not terms:
            return []
        return snap.bm25_top(terms, mask, fetch)

    def _focused(
        self, snap: Snapshot, norm: str, terms: list[str], mask: np.ndarray | None, fetch: int
    ) -> list[int]:
        """When the query names one product clearly, rank that product's passages by the
        rest of the question (华夫格那件是啥面料 → 面料 within that T恤), so the aspect asked
        about wins over passages that merely repeat the product's name."""
        assert self.linker is not None
        mentions = self.linker.link(norm, fuzzy=False)  # BM25 and vectors cover typos
        if not mentions or mentions[0].score < FOCUS_MIN_SCORE:
            return []
        if len(mentions) > 1 and mentions[1].score >= mentions[0].score:
            return []  # two products equally likely: no focus
        naming = set(search_terms(self.tokenizer, mentions[0].span, normalized=True))
        rest = [t for t in terms if t not in naming]
        if not rest:
            return []
        rows = snap.rows_of(mentions[0].product_id)
        if mask is not None:
            rows = rows[mask[rows]]
        if rows.size == 0:
            return []
        return top_rows(snap.bm25_scores(rest, rows), rows, fetch)

    def _vector(self, snap: Snapshot, norm: str, mask: np.ndarray | None, fetch: int) -> list[int]:
        q = np.asarray(self.embedder.embed([norm])[0], dtype=np.float32)
        if not np.any(q):
            return []
        n = len(snap)
        allowed = int(mask.sum()) if mask is not None else n
        if allowed < n // 2:  # a few rows (one product, one type): score just those
            rows = np.flatnonzero(mask)  # type: ignore[arg-type]
            sims = _dot(snap.vectors[rows], q)
            sims[sims < self.min_similarity] = 0.0
            return top_rows(sims, rows, fetch)
        if n <= EXACT_ROWS:  # small index: one matrix-vector product beats a chroma call
            sims = _dot(snap.vectors, q)
            sims[sims < self.min_similarity] = 0.0
            if mask is not None:
                sims[~mask] = 0.0
            return top_rows(sims, None, fetch)
        # chroma holds a document per product (and per other passage): it proposes products,
        # and every passage of each is scored exactly below.
        docs = snap.vector_doc_count
        want = max(1, min(docs, fetch + (n - allowed)))
        got = self.store.collection.query(query_embeddings=[q], n_results=want, include=[])
        cand = _candidate_rows(snap, got["ids"][0])
        if mask is not None and cand.size:
            cand = cand[mask[cand]]
        if cand.size == 0:
            return []
        sims = _dot(snap.vectors[cand], q)
        sims = np.where(sims >= self.min_similarity, sims, 0.0)
        return top_rows(sims, cand, fetch)

    # --- re-ingest -----------------------------------------------------------------------

    def refresh(self, shop: Shop, *, progress: bool = False) -> IngestReport:
        """Re-ingest ``shop`` (only changed passages are embedded) and swap the new index in.
        Queries running meanwhile keep using the previous one."""
        with self._refresh_lock:
            passages = build_passages(shop)
            snapshot, report = self.store.ingest(
                shop, passages, self.tokenizer, self.embedder, previous=self._snapshot, progress=progress
            )
            if self.linker is not None:
                self.linker = EntityLinker(shop, tokenizer=self.tokenizer, cache_dir=self._cache_dir)
            self._snapshot = snapshot
            self.last_report = report
            return report


def open_retriever(
    shop: Shop,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    persist_dir: Path | None = None,
    progress: bool = False,
    tokenizer: ShopTokenizer | None = None,
    cache_dir: Path | None = None,
) -> HybridRetriever:
    """Ingest ``shop`` incrementally and return a ready retriever. ``persist_dir=None`` keeps
    the index in memory (tests, benchmark runs); otherwise chroma lives on disk there.
    ``cache_dir`` keeps the shop's words and the linker's tables between starts."""
    tokenizer = tokenizer or kept_shop_tokenizer(shop, cache_dir)
    embedder = embedder or make_embedder(settings, tokenizer=None)
    store = IndexStore.open(shop, embedder, persist_dir, chroma_url=settings.chroma_url)
    # Passages are built only when the index on disk is not of this very shop and code.
    snapshot, report = store.ingest(shop, lambda: build_passages(shop), tokenizer, embedder, progress=progress)
    linker = EntityLinker(shop, tokenizer=tokenizer, cache_dir=cache_dir) if shop.products else None
    retriever = HybridRetriever(store, snapshot, tokenizer, embedder, linker=linker, cache_dir=cache_dir)
    retriever.last_report = report
    if len(snapshot) > EXACT_ROWS:
        # Queries of a big index go through chroma's graph: it is opened beside the start,
        # not by the first buyer's question (importing and opening it takes seconds).
        threading.Thread(target=_open_graph, args=(store,), name="xiaoer-chroma-open", daemon=True).start()
    return retriever


def _open_graph(store: IndexStore) -> None:
    try:
        store.collection
    except Exception:  # noqa: BLE001 - the first query that needs it opens it again, and says why
        log.warning("opening the vector store ahead of queries failed", exc_info=True)


WORDS_CACHE = "tokenizer-words"
WORDS_CODE = ("bot.retrieval.vocab",)  # shop_words and the tokenizer it cuts titles with


def kept_shop_tokenizer(shop: Shop, cache_dir: Path | None) -> ShopTokenizer:
    """:func:`~bot.retrieval.vocab.shop_tokenizer`, with the shop's words (cutting every
    title to find them takes seconds in a big shop) kept in ``cache_dir`` between starts of
    the same shop files and code."""
    words = kept_for_shop(
        shop, cache_dir, WORDS_CACHE, WORDS_CODE, lambda: shop_words(shop),
        lambda w: isinstance(w, list) and all(isinstance(x, str) for x in w), libraries=("jieba",),
    )
    return ShopTokenizer(words)


__all__ = ["HashingEmbedder", "HybridRetriever", "Retriever", "open_retriever", "rrf"]
