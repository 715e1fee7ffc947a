"""Compact in-memory forms of a snapshot's per-passage data.

A shop of tens of thousands of products has hundreds of thousands of passages; held as
Python objects (a list of strings per passage for its BM25 terms, a pydantic model per
passage) they cost several kilobytes each. Here the terms are integer ids into one shared
vocabulary, and the passages of a generation on disk are read from its file when a query
returns them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from bot.retrieval.passages import Passage


def _position(i: int, n: int) -> int:
    """``i`` as a position in a sequence of ``n`` (negative from the end); IndexError outside."""
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(i)
    return j


class TokenTable(Sequence[list[str]]):
    """Each passage's BM25 terms as ids into ``terms``: a flat ``int32`` array cut by
    ``offsets`` (row ``i`` is ``ids[offsets[i]:offsets[i + 1]]``)."""

    def __init__(self, terms: list[str], ids: np.ndarray, offsets: np.ndarray) -> None:
        if offsets.ndim != 1 or offsets.size == 0 or int(offsets[-1]) != ids.size:
            raise ValueError("offsets must end at the number of ids")
        self.terms = terms
        self.ids = ids
        self.offsets = offsets

    @classmethod
    def from_lists(cls, rows: Iterable[Sequence[str]]) -> TokenTable:
        """The table of ``rows``; terms get ids in the order they first appear."""
        rows = rows if isinstance(rows, Sequence) else list(rows)
        index: dict[str, int] = {}
        flat = [index.setdefault(t, len(index)) for row in rows for t in row]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows)), out=offsets[1:])
        return cls(list(index), np.array(flat, dtype=np.int32), offsets)

    def __len__(self) -> int:
        return self.offsets.size - 1

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...
    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = _position(i, len(self))
        terms = self.terms
        return [terms[t] for t in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist()]

    def row_ids(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def lists(self) -> list[list[str]]:
        """Every row as a list of terms; the strings are shared with ``terms``."""
        terms = self.terms
        return self._rows([terms[t] for t in self.ids.tolist()])

    def id_lists(self) -> list[list[int]]:
        """Every row as a list of term ids."""
        return self._rows(np.asarray(self.ids).tolist())

    def _rows(self, flat: list) -> list:  # type: ignore[type-arg]
        bounds = self.offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds, bounds[1:])]

    def save(self, folder: Path) -> None:
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "term_ids.npy", self.ids)
        np.save(folder / "term_offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path) -> TokenTable:
        """The table saved in ``folder``. Its ids are mapped, not read: queries never use them
        (only an ingest does, to reuse a passage's terms), so they take no memory until then
        (98 MB at 50,000 products)."""
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        return cls(terms, np.load(folder / "term_ids.npy", mmap_mode="r"), np.load(folder / "term_offsets.npy"))


class TokenTableBuilder:
    """Rows added in any order (``set``) or in turn (``append``), then :meth:`build`."""

    def __init__(self, n: int = 0) -> None:
        self._vocab: dict[str, int] = {}
        self._rows: list[np.ndarray | None] = [None] * n

    def encode(self, terms: Sequence[str]) -> np.ndarray:
        vocab = self._vocab
        out = np.empty(len(terms), dtype=np.int32)
        for j, term in enumerate(terms):
            tid = vocab.get(term)
            if tid is None:
                tid = vocab[term] = len(vocab)
            out[j] = tid
        return out

    def append(self, terms: Sequence[str]) -> None:
        self._rows.append(self.encode(terms))

    def set(self, i: int, terms: Sequence[str]) -> None:
        self._rows[i] = self.encode(terms)

    def set_rows(self, rows: Sequence[int], table: TokenTable) -> None:
        """Row ``rows[k]`` is row ``k`` of ``table`` (a batch's own): each of its terms is
        looked up once, however many rows hold it."""
        if len(table) != len(rows):
            raise ValueError("the table must have one row per row set")
        mapped = self.encode(table.terms)[table.ids] if table.ids.size else np.zeros(0, dtype=np.int32)
        bounds = table.offsets.tolist()
        for k, i in enumerate(rows):
            self._rows[i] = mapped[bounds[k] : bounds[k + 1]]

    def copy_row(self, i: int, table: TokenTable, j: int) -> None:
        """Row ``i`` is row ``j`` of ``table`` (a previous generation's)."""
        old = table.row_ids(j)
        # Translating ids through the other table's terms keeps both vocabularies apart.
        self.set(i, [table.terms[t] for t in old.tolist()])

    def build(self) -> TokenTable:
        empty = np.zeros(0, dtype=np.int32)
        rows = [r if r is not None else empty for r in self._rows]
        lengths = np.fromiter((r.size for r in rows), dtype=np.int64, count=len(rows))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.concatenate(rows) if rows else empty
        terms = [""] * len(self._vocab)
        for term, tid in self._vocab.items():
            terms[tid] = term
        return TokenTable(terms, ids.astype(np.int32, copy=False), offsets)


class PassageFile(Sequence[Passage]):
    """The passages of one generation, read from its ``passages.jsonl`` by byte offset when
    asked for; recently read ones are kept. The file stays open, so a generation removed by
    a later ingest (of this or another process) stays readable for this snapshot."""

    KEEP = 4096  # passages kept decoded

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.path = path
        self.offsets = offsets
        self._fd = os.open(path, os.O_RDONLY)
        self._kept: dict[int, Passage] = {}
        self._lock = threading.Lock()

    def __del__(self, _close: Callable[[int], None] = os.close) -> None:
        # ``os.close`` is held here: at the interpreter's exit a module's names may be gone
        # before this runs (a serving process's start is not collected, see bot.collector).
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                _close(fd)
            except OSError:
                pass

    def __len__(self) -> int:
        return self.offsets.size - 1

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...
    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = _position(i, len(self))
        kept = self._kept.get(i)
        if kept is not None:
            return kept
        passage = self._read(i)
        with self._lock:
            if len(self._kept) >= self.KEEP:
                self._kept.clear()
            self._kept[i] = passage
        return passage

    def __iter__(self) -> Iterator[Passage]:
        # Through the open file too, and without filling the kept ones.
        for i in range(len(self)):
            yield self._read(i)

    def _read(self, i: int) -> Passage:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return Passage.model_validate_json(os.pread(self._fd, end - start, start))


def write_passages(path: Path, passages: Iterable[Passage]) -> np.ndarray:
    """Write one passage per line; returns the byte offsets (n + 1 of them)."""
    offsets = [0]
    with open(path, "wb") as fh:
        for passage in passages:
            line = passage.model_dump_json().encode("utf-8") + b"\n"
            fh.write(line)
            offsets.append(offsets[-1] + len(line))
    return np.array(offsets, dtype=np.int64)
