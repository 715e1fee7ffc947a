"""One immutable generation of a shop's index: passages, BM25 terms, vectors, filters.

A retriever reads exactly one snapshot per query; a re-ingest builds a new snapshot and
swaps it in, so readers never see a half-built index.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.retrieval.passages import ALWAYS, PASSAGE_TYPES, Passage

SNAPSHOT_FORMAT = 1


def _bm25(tokens: list[list[str]]) -> Any:
    import bm25s

    # Every document gets at least one term so bm25s never sees an empty row.
    corpus = [t if t else ["\x00"] for t in tokens]
    index = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    if corpus:
        index.index(corpus, show_progress=False)
    return index


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _load_bm25(folder: Path, n: int) -> Any:
    """A saved BM25 index, or None (then it is rebuilt from the tokens) when it is missing,
    unreadable or of another size."""
    import bm25s

    if not folder.is_dir():
        return None
    try:
        index = bm25s.BM25.load(str(folder), mmap=False)
    except (OSError, ValueError, KeyError):
        return None
    return index if index.scores.get("num_docs") == n else None


class _Postings:
    """BM25 scoring straight from bm25s's precomputed term → (passages, scores) lists.

    Summing with ``np.bincount`` instead of bm25s's ``np.add.at`` is several times faster on
    large indexes, and scoring only some rows (one product's passages) looks those rows up
    in each term's sorted passage list instead of scoring every passage."""

    def __init__(self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> None:
        self.vocab = vocab
        self.data = data
        self.indptr = indptr
        # Each term's passage list sorted by row, for the binary searches of ``rows`` scoring.
        if indices.size > 1:
            step = np.diff(indices)
            bounds = np.zeros(indices.size - 1, dtype=bool)
            bounds[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < indices.size)] - 1] = True
            if not np.all((step > 0) | bounds):
                column = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
                order = np.lexsort((indices, column))
                indices, self.data = indices[order], data[order]
        self.indices = indices

    def scores(self, terms: list[str], n: int, rows: np.ndarray | None) -> np.ndarray:
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if rows is not None:
            out = np.zeros(rows.size, dtype=np.float64)
            for tid in ids:
                start, end = self.indptr[tid], self.indptr[tid + 1]
                docs = self.indices[start:end]
                at = np.searchsorted(docs, rows)
                found = at < docs.size
                found[found] = docs[at[found]] == rows[found]
                out[found] += self.data[start + at[found]]
            return out
        if not ids:
            return np.zeros(n, dtype=np.float64)
        spans = [(self.indptr[t], self.indptr[t + 1]) for t in ids]
        docs = np.concatenate([self.indices[a:b] for a, b in spans])
        weights = np.concatenate([self.data[a:b] for a, b in spans])
        return np.bincount(docs, weights=weights, minlength=n)


def _postings(index: Any) -> _Postings:
    scores = getattr(index, "scores", None) or {}
    vocab = getattr(index, "vocab_dict", None) or {}
    if not scores or "data" not in scores:
        empty = np.zeros(0)
        return _Postings({}, empty, np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64))
    return _Postings(vocab, scores["data"], scores["indices"], scores["indptr"])


@dataclass
class Snapshot:
    """Everything a query needs, held in memory."""

    passages: list[Passage]
    tokens: list[list[str]]
    vectors: np.ndarray  # (n, dim) float32, rows L2-normalised (or as the embedder gives)
    embedder: str
    shop_hash: str
    file_hashes: dict[str, str] = field(default_factory=dict)
    bm25: Any = None
    pos: dict[str, int] = field(default_factory=dict)
    type_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    valid_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_to: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    timed: bool = False
    product_rows: dict[str, np.ndarray] = field(default_factory=dict)
    timed_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.passages)
        if len(self.tokens) != n or self.vectors.shape[0] != n:
            raise ValueError("passages, tokens and vectors must have the same length")
        self.pos = {p.id: i for i, p in enumerate(self.passages)}
        codes = {t: i for i, t in enumerate(PASSAGE_TYPES)}
        self.type_code = np.array([codes.get(p.type, -1) for p in self.passages], dtype=np.int16)
        self.product = np.array([p.product_id or "" for p in self.passages], dtype=object)
        self.valid_from = np.array([p.valid_from for p in self.passages], dtype=np.int64)
        self.valid_to = np.array([p.valid_to for p in self.passages], dtype=np.int64)
        # Row lists by product and the rows with a validity window, so a filtered query
        # touches those rows instead of comparing every row.
        rows: dict[str, list[int]] = {}
        for i, p in enumerate(self.passages):
            if p.product_id:
                rows.setdefault(p.product_id, []).append(i)
        self.product_rows = {pid: np.array(r, dtype=np.int64) for pid, r in rows.items()}
        always = (self.valid_from <= ALWAYS[0]) & (self.valid_to >= ALWAYS[1])
        self.timed_rows = np.flatnonzero(~always)
        self.timed = bool(self.timed_rows.size)
        self._type_masks: dict[tuple[str, ...], np.ndarray] = {}
        if self.bm25 is None:
            self.bm25 = _bm25(self.tokens)
        self._postings = _postings(self.bm25)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def digests(self) -> dict[str, str]:
        return {p.id: p.digest for p in self.passages}

    def rows_of(self, product_id: str) -> np.ndarray:
        """Row numbers of ``product_id``'s passages (empty when unknown)."""
        return self.product_rows.get(product_id, _NO_ROWS)

    def mask(
        self, *, types: list[str] | None, product_id: str | None, now: datetime | None
    ) -> np.ndarray | None:
        """Which passages a query may return; ``None`` means all of them."""
        n = len(self.passages)
        keep: np.ndarray | None = None
        if types is not None:
            key = tuple(sorted(set(types)))
            cached = self._type_masks.get(key)
            if cached is None:
                codes = [PASSAGE_TYPES.index(t) for t in key if t in PASSAGE_TYPES]
                cached = np.isin(self.type_code, np.array(codes, dtype=np.int16))
                if len(self._type_masks) < 64:
                    self._type_masks[key] = cached
            keep = cached.copy()
        if product_id is not None:
            same = np.zeros(n, dtype=bool)
            same[self.rows_of(product_id)] = True
            keep = same if keep is None else keep & same
        if now is not None and self.timed:
            ts = int(now.timestamp())
            rows = self.timed_rows
            expired = rows[(self.valid_from[rows] > ts) | (ts > self.valid_to[rows])]
            if expired.size:
                if keep is None:
                    keep = np.ones(n, dtype=bool)
                keep[expired] = False
        return keep

    def bm25_scores(self, terms: list[str], rows: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for ``terms`` (repeats count), or only of ``rows``
        (in that order) when given."""
        return self._postings.scores(terms, len(self.passages), rows)

    # --- persistence -----------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write to ``folder`` (which must not exist yet) via a temporary sibling + rename."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self.vectors)
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
            for passage, toks in zip(self.passages, self.tokens):
                row = {"p": passage.model_dump(), "t": toks}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        meta = {
            "format": SNAPSHOT_FORMAT,
            "embedder": self.embedder,
            "shop_hash": self.shop_hash,
            "file_hashes": self.file_hashes,
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if self.bm25 is not None and len(self.passages):
            # The BM25 matrices themselves: re-opening then skips re-indexing every passage.
            self.bm25.save(str(tmp / "bm25"), show_progress=False)
        os.replace(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> Snapshot:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {meta.get('format')} is not {SNAPSHOT_FORMAT}")
        passages: list[Passage] = []
        tokens: list[list[str]] = []
        with open(folder / "passages.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                passages.append(Passage.model_validate(row["p"]))
                tokens.append(row["t"])
        vectors = np.load(folder / "vectors.npy")
        return cls(
            bm25=_load_bm25(folder / "bm25", len(passages)),
            passages=passages,
            tokens=tokens,
            vectors=vectors,
            embedder=meta["embedder"],
            shop_hash=meta["shop_hash"],
            file_hashes=meta.get("file_hashes", {}),
        )
