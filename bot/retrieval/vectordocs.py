"""What the vector index holds: one document per product, one per other passage.

A product has up to ten passages (overview, attributes, care, FAQ …). Indexing each of them
in chroma's HNSW graph costs a write at ingest and a graph node in memory per passage;
indexing one vector per product — the normalised sum of its passages' vectors — costs an
eighth of that. The graph then only proposes candidates: every passage of a proposed
product is scored exactly against its own vector in the snapshot, so the ranking of
passages is the same as before among the candidates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

PRODUCT_PREFIX = "product::"  # no passage id starts so (they are "T101#…", "promo:…", "faq#…", "x.md#…")


@dataclass(frozen=True)
class VectorDocs:
    """Document ids, their digests (equal digests need no rewrite) and the passage rows of each."""

    ids: list[str]
    digests: list[str]
    rows: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    def vectors(self, vectors: np.ndarray, which: list[int]) -> np.ndarray:
        """The vectors of documents ``which``: a passage's own, a product's normalised sum."""
        out = np.zeros((len(which), vectors.shape[1]), dtype=np.float32)
        for k, d in enumerate(which):
            rows = self.rows[d]
            v = vectors[rows].sum(axis=0) if rows.size > 1 else vectors[rows[0]]
            length = float(np.linalg.norm(v))
            out[k] = v / length if length > 0 else v
        return out


def product_doc_id(product_id: str) -> str:
    return PRODUCT_PREFIX + product_id


def product_of(doc_id: str) -> str | None:
    """The product of a product document's id, None for a single passage's."""
    return doc_id[len(PRODUCT_PREFIX) :] if doc_id.startswith(PRODUCT_PREFIX) else None


def vector_docs(
    passage_ids: list[str], product_ids: list[str | None], digests: list[str]
) -> VectorDocs:
    """The documents of passages given by id, product (None: not a product's) and digest, in
    the order of each document's first passage."""
    ids: list[str] = []
    rows: list[list[int]] = []
    where: dict[str, int] = {}
    for i, (pid, product) in enumerate(zip(passage_ids, product_ids)):
        if product is None:
            ids.append(pid)
            rows.append([i])
            continue
        d = where.get(product)
        if d is None:
            d = where[product] = len(ids)
            ids.append(product_doc_id(product))
            rows.append([])
        rows[d].append(i)
    doc_digests = []
    for doc_id, members in zip(ids, rows):
        if len(members) == 1 and product_of(doc_id) is None:
            doc_digests.append(digests[members[0]])
        else:
            h = hashlib.sha256("\x1f".join(digests[i] for i in members).encode())
            doc_digests.append(h.hexdigest()[:24])
    return VectorDocs(ids, doc_digests, [np.array(r, dtype=np.int64) for r in rows])
