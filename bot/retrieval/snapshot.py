"""One immutable generation of a shop's index: passages, BM25 terms, vectors, filters.

A retriever reads exactly one snapshot per query; a re-ingest builds a new snapshot and
swaps it in, so readers never see a half-built index.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.retrieval.columns import PassageFile, TokenTable, write_passages
from bot.retrieval.passages import ALWAYS, PASSAGE_TYPES, Passage
from bot.retrieval.topk import top_rows

SNAPSHOT_FORMAT = 2  # 2: passages read by offset, terms as ids, filter columns apart


EMPTY_TERM = "\x00"  # the one term of a passage with none, so bm25s never sees an empty row


def _bm25(table: TokenTable) -> Any:
    """The BM25 index of ``table``'s rows, given to bm25s as term ids (its own conversion of
    a list of strings per passage into ids cost a big shop's start seconds)."""
    import bm25s

    terms = list(table.terms)
    rows = table.id_lists()
    if not all(rows):
        pad = terms.index(EMPTY_TERM) if EMPTY_TERM in terms else len(terms)
        if pad == len(terms):
            terms.append(EMPTY_TERM)
        rows = [r if r else [pad] for r in rows]
    index = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    if rows:
        index.index((rows, {t: i for i, t in enumerate(terms)}), show_progress=False)
    return index


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _load_bm25(folder: Path, n: int, *, mapped: bool = False) -> Any:
    """A saved BM25 index, or None (then it is rebuilt from the tokens) when it is missing,
    unreadable or of another size. ``mapped``: its matrices are mapped, not read (a query
    pages in only its terms' postings)."""
    import bm25s

    if not folder.is_dir():
        return None
    try:
        index = bm25s.BM25.load(str(folder), mmap=mapped, show_progress=False)
    except (OSError, ValueError, KeyError):
        return None
    return index if index.scores.get("num_docs") == n else None


class _Postings:
    """BM25 scoring straight from bm25s's precomputed term → (passages, scores) lists.

    Summing with ``np.bincount`` instead of bm25s's ``np.add.at`` is several times faster on
    large indexes, and scoring only some rows (one product's passages) looks those rows up
    in each term's sorted passage list instead of scoring every passage.

    The best rows of a query on a big index (:meth:`top`) are found by scoring only the rows
    that can score: the passages the query's terms are in when they are few, or the rows a
    filter leaves when it leaves few (one product's); otherwise every passage, as before.
    The same floats either way: :meth:`_of_rows` adds the terms in the query's order, as the
    sum over every passage does."""

    sparse_from = 50_000  # passages; below this every passage is scored

    def __init__(
        self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
        *, in_order: bool = False,
    ) -> None:
        self.vocab = vocab
        self.data = data
        self.indptr = indptr
        # Each term's passage list sorted by row, for the binary searches of ``rows`` scoring.
        if indices.size > 1 and not in_order:
            step = np.diff(indices)
            bounds = np.zeros(indices.size - 1, dtype=bool)
            bounds[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < indices.size)] - 1] = True
            if not np.all((step > 0) | bounds):
                column = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
                order = np.lexsort((indices, column))
                indices, self.data = indices[order], data[order]
        self.indices = indices

    def scores(self, terms: list[str], n: int, rows: np.ndarray | None) -> np.ndarray:
        ids = self._ids(terms)
        return self._dense(ids, n) if rows is None else self._of_rows(ids, rows)

    def top(self, terms: list[str], n: int, mask: np.ndarray | None, fetch: int) -> list[int]:
        """The ``fetch`` rows of highest score for ``terms`` among those ``mask`` allows (all
        when None), best first, ties by row: :func:`top_rows` of the masked :meth:`scores`."""
        ids = self._ids(terms)
        if not ids or fetch <= 0:
            return []
        rows = self._rows_to_score(ids, n, mask) if n >= self.sparse_from else None
        if rows is None:
            scores = self._dense(ids, n)
            if mask is not None:
                scores[~mask] = 0.0
            return top_rows(scores, None, fetch)
        return top_rows(self._of_rows(ids, rows), rows, fetch)

    def _ids(self, terms: list[str]) -> list[int]:
        return [self.vocab[t] for t in terms if t in self.vocab]

    def _dense(self, ids: list[int], n: int) -> np.ndarray:
        if not ids:
            return np.zeros(n, dtype=np.float64)
        spans = [(self.indptr[t], self.indptr[t + 1]) for t in ids]
        docs = np.concatenate([self.indices[a:b] for a, b in spans])
        weights = np.concatenate([self.data[a:b] for a, b in spans])
        return np.bincount(docs, weights=weights, minlength=n)

    def _of_rows(self, ids: list[int], rows: np.ndarray) -> np.ndarray:
        # Term by term in the query's order, as the dense sum adds them: the same floats.
        out = np.zeros(rows.size, dtype=np.float64)
        for tid in ids:
            start, end = self.indptr[tid], self.indptr[tid + 1]
            docs = self.indices[start:end]
            at = np.searchsorted(docs, rows)
            found = at < docs.size
            found[found] = docs[at[found]] == rows[found]
            out[found] += self.data[start + at[found]]
        return out

    def _rows_to_score(self, ids: list[int], n: int, mask: np.ndarray | None) -> np.ndarray | None:
        """The rows that can score, sorted, when they are few (at most one in 64 passages):
        those a filter leaves, or those a query term is in; None when they are many."""
        few = n // 64
        if mask is not None and np.count_nonzero(mask) <= few:
            return np.flatnonzero(mask)
        spans = [(self.indptr[t], self.indptr[t + 1]) for t in set(ids)]
        if sum(b - a for a, b in spans) > few:
            return None
        rows = np.unique(np.concatenate([self.indices[a:b] for a, b in spans])).astype(np.int64, copy=False)
        return rows[mask[rows]] if mask is not None else rows


def _postings(index: Any, *, in_order: bool = False) -> _Postings:
    """``index``'s postings; ``in_order``: each term's passages are known to be sorted (a
    generation this code saved), so they are not checked (which would read them all)."""
    scores = getattr(index, "scores", None) or {}
    vocab = getattr(index, "vocab_dict", None) or {}
    if not scores or "data" not in scores:
        empty = np.zeros(0)
        return _Postings({}, empty, np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64))
    return _Postings(vocab, scores["data"], scores["indices"], scores["indptr"], in_order=in_order)


@dataclass
class Columns:
    """What a query filters on, one entry per passage: read from a generation's files without
    decoding its passages."""

    ids: list[str]
    type_code: np.ndarray  # int16, index into PASSAGE_TYPES (-1: unknown)
    product_code: np.ndarray  # int32, index into ``products`` (-1: not a product's)
    products: list[str]
    valid_from: np.ndarray  # int64 epoch seconds
    valid_to: np.ndarray

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> Columns:
        codes = {t: i for i, t in enumerate(PASSAGE_TYPES)}
        products: dict[str, int] = {}
        for p in passages:
            if p.product_id and p.product_id not in products:
                products[p.product_id] = len(products)
        return cls(
            ids=[p.id for p in passages],
            type_code=np.array([codes.get(p.type, -1) for p in passages], dtype=np.int16),
            product_code=np.array(
                [products[p.product_id] if p.product_id else -1 for p in passages], dtype=np.int32
            ),
            products=list(products),
            valid_from=np.array([p.valid_from for p in passages], dtype=np.int64),
            valid_to=np.array([p.valid_to for p in passages], dtype=np.int64),
        )

    def save(self, folder: Path) -> None:
        (folder / "ids.json").write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")
        (folder / "products.json").write_text(json.dumps(self.products, ensure_ascii=False), encoding="utf-8")
        np.savez(
            folder / "columns.npz",
            type_code=self.type_code,
            product_code=self.product_code,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )

    @classmethod
    def load(cls, folder: Path) -> Columns:
        with np.load(folder / "columns.npz") as arrays:
            return cls(
                ids=json.loads((folder / "ids.json").read_text(encoding="utf-8")),
                products=json.loads((folder / "products.json").read_text(encoding="utf-8")),
                type_code=arrays["type_code"],
                product_code=arrays["product_code"],
                valid_from=arrays["valid_from"],
                valid_to=arrays["valid_to"],
            )


def mapped(path: Path) -> np.ndarray:
    """The array in ``path`` mapped, not read: only the rows a query scores are paged in.
    The kernel is asked to read the file ahead (:data:`mmap.MADV_WILLNEED`, which returns at
    once), so the first queries after a start do not fault its pages in one by one (the first
    scoring of 3,000 rows of a 50,000-product shop's vectors: 94 → 11 ms)."""
    array = np.load(path, mmap_mode="r")
    region = getattr(array, "_mmap", None)
    if region is not None and hasattr(mmap, "MADV_WILLNEED"):
        try:
            region.madvise(mmap.MADV_WILLNEED)
        except (OSError, ValueError):  # only a hint
            pass
    return array


@dataclass
class Snapshot:
    """Everything a query needs. The filter columns, BM25 postings and term ids are held in
    memory; a generation loaded from disk reads its passages from its file when a query
    returns them and maps its vectors from ``vectors.npy``."""

    passages: Sequence[Passage]
    tokens: TokenTable | Sequence[Sequence[str]]
    vectors: np.ndarray  # (n, dim) float32, rows L2-normalised (or as the embedder gives)
    embedder: str
    shop_hash: str
    file_hashes: dict[str, str] = field(default_factory=dict)
    code: str = ""  # version of the code that built it (see ``store.index_code``); "" unknown
    bm25: Any = None
    columns: Columns | None = None
    folder: Path | None = None  # the generation on disk this snapshot was read from or saved to
    pos: dict[str, int] = field(default_factory=dict)
    type_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    valid_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_to: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    timed: bool = False
    product_rows: dict[str, np.ndarray] = field(default_factory=dict)
    timed_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    postings_in_order: bool = False  # the BM25 postings were saved sorted (see save)

    def __post_init__(self) -> None:
        n = len(self.passages)
        if not isinstance(self.tokens, TokenTable):
            self.tokens = TokenTable.from_lists(self.tokens)
        if len(self.tokens) != n or self.vectors.shape[0] != n:
            raise ValueError("passages, tokens and vectors must have the same length")
        cols = self.columns if self.columns is not None else Columns.of(self.passages)
        if len(cols.ids) != n:
            raise ValueError("columns and passages must have the same length")
        self.columns = cols
        self.pos = dict(zip(cols.ids, range(n)))
        self.type_code = cols.type_code
        self.valid_from = cols.valid_from
        self.valid_to = cols.valid_to
        # Row lists by product and the rows with a validity window, so a filtered query
        # touches those rows instead of comparing every row.
        owned = np.flatnonzero(cols.product_code >= 0)
        order = owned[np.argsort(cols.product_code[owned], kind="stable")]
        codes = cols.product_code[order]
        cuts = np.flatnonzero(np.diff(codes)) + 1
        self.product_rows = {
            cols.products[int(group_codes[0])]: rows.astype(np.int64)
            for rows, group_codes in zip(np.split(order, cuts), np.split(codes, cuts))
            if rows.size
        }
        always = (self.valid_from <= ALWAYS[0]) & (self.valid_to >= ALWAYS[1])
        self.timed_rows = np.flatnonzero(~always)
        self.timed = bool(self.timed_rows.size)
        self._vector_docs = len(self.product_rows) + int(np.count_nonzero(cols.product_code < 0))
        self._type_masks: dict[tuple[str, ...], np.ndarray] = {}
        if self.bm25 is None:
            self.bm25 = _bm25(self.tokens)
        self._postings = _postings(self.bm25, in_order=self.postings_in_order)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def vector_doc_count(self) -> int:
        """Documents of this generation in the vector index: one per product, one per other
        passage (see :mod:`bot.retrieval.vectordocs`)."""
        return self._vector_docs

    @property
    def table(self) -> TokenTable:
        assert isinstance(self.tokens, TokenTable)
        return self.tokens

    @property
    def digests(self) -> dict[str, str]:
        """Passage id → digest (read from the generation's file when it has one)."""
        assert self.columns is not None
        if self.folder is not None and (self.folder / "digests.json").is_file():
            try:
                stored = json.loads((self.folder / "digests.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if isinstance(stored, list) and len(stored) == len(self):
                return dict(zip(self.columns.ids, stored))
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

    def bm25_top(self, terms: list[str], mask: np.ndarray | None, fetch: int) -> list[int]:
        """The ``fetch`` passages of highest BM25 score for ``terms`` among those ``mask``
        allows, best first, ties by row (see :meth:`_Postings.top`)."""
        return self._postings.top(terms, len(self.passages), mask, fetch)

    # --- persistence -----------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write to ``folder`` (which must not exist yet) via a temporary sibling + rename;
        from then on the passages are read from there."""
        assert self.columns is not None
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", np.ascontiguousarray(self.vectors, dtype=np.float32))
        digests: list[str] = []

        def passages() -> Iterator[Passage]:
            for passage in self.passages:
                digests.append(passage.digest)
                yield passage

        offsets = write_passages(tmp / "passages.jsonl", passages())
        np.save(tmp / "passage_offsets.npy", offsets)
        (tmp / "digests.json").write_text(json.dumps(digests), encoding="utf-8")
        self.columns.save(tmp)
        self.table.save(tmp)
        meta = {
            "format": SNAPSHOT_FORMAT,
            "embedder": self.embedder,
            "shop_hash": self.shop_hash,
            "file_hashes": self.file_hashes,
            "code": self.code,
        }
        if self.bm25 is not None and len(self.passages):
            # The BM25 matrices themselves: re-opening then skips re-indexing every passage.
            # They are saved with each term's passages sorted (as scoring holds them), so a
            # start maps them without reading them to check.
            scores = self.bm25.scores
            scores["data"], scores["indices"] = self._postings.data, self._postings.indices
            self.bm25.save(str(tmp / "bm25"), show_progress=False)
            meta["postings_in_order"] = True
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, folder)
        self.folder = folder
        self.passages = PassageFile(folder / "passages.jsonl", offsets)
        self.vectors = mapped(folder / "vectors.npy")

    @classmethod
    def load(cls, folder: Path) -> Snapshot:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {meta.get('format')} is not {SNAPSHOT_FORMAT}")
        offsets = np.load(folder / "passage_offsets.npy")
        passages = PassageFile(folder / "passages.jsonl", offsets)
        vectors = mapped(folder / "vectors.npy")
        in_order = meta.get("postings_in_order") is True
        return cls(
            bm25=_load_bm25(folder / "bm25", len(passages), mapped=in_order),
            postings_in_order=in_order,
            passages=passages,
            tokens=TokenTable.load(folder),
            vectors=vectors,
            embedder=meta["embedder"],
            shop_hash=meta["shop_hash"],
            file_hashes=meta.get("file_hashes", {}),
            code=str(meta.get("code", "")),
            columns=Columns.load(folder),
            folder=folder,
        )
