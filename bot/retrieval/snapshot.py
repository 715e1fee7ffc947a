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

from bot.retrieval.passages import PASSAGE_TYPES, Passage

SNAPSHOT_FORMAT = 1


def _bm25(tokens: list[list[str]]) -> Any:
    import bm25s

    # Every document gets at least one term so bm25s never sees an empty row.
    corpus = [t if t else ["\x00"] for t in tokens]
    index = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    if corpus:
        index.index(corpus, show_progress=False)
    return index


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
        self.timed = bool(n) and bool((self.type_code == codes["promotion"]).any())
        if self.bm25 is None:
            self.bm25 = _bm25(self.tokens)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def digests(self) -> dict[str, str]:
        return {p.id: p.digest for p in self.passages}

    def mask(
        self, *, types: list[str] | None, product_id: str | None, now: datetime | None
    ) -> np.ndarray | None:
        """Which passages a query may return; ``None`` means all of them."""
        keep: np.ndarray | None = None
        if types is not None:
            codes = [PASSAGE_TYPES.index(t) for t in types if t in PASSAGE_TYPES]
            keep = np.isin(self.type_code, np.array(codes, dtype=np.int16))
        if product_id is not None:
            same = self.product == product_id
            keep = same if keep is None else keep & same
        if now is not None and self.timed:
            ts = int(now.timestamp())
            valid = (self.valid_from <= ts) & (ts <= self.valid_to)
            keep = valid if keep is None else keep & valid
        return keep

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
            passages=passages,
            tokens=tokens,
            vectors=vectors,
            embedder=meta["embedder"],
            shop_hash=meta["shop_hash"],
            file_hashes=meta.get("file_hashes", {}),
        )
