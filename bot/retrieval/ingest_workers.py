"""A big shop's passages cut into search terms, and embedded, on every core.

Cutting hundreds of thousands of passages with jieba, and hashing their characters into
vectors, is most of a big shop's cold ingest and runs in Python on one core.
:func:`prepare_passages` has worker processes (:mod:`bot.procpool`) normalise, cut and (with
the offline hashed embedder) embed the passages in batches, each worker with a tokenizer of
the same shop words, while the ingest stores the batches already back. A batch a worker
failed to return is prepared in the process itself; small shops and one-core machines
prepare every batch here (starting workers costs more than it saves there).

A batch comes back compact: its terms as ids into the batch's own list of distinct terms
(unpickling a list of strings per passage cost the receiving process as much time as the
cutting saved), and its normalised texts only when it was not embedded where it was cut.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bot import procpool
from bot.retrieval.columns import TokenTable
from bot.retrieval.embedders import Embedder, HashingEmbedder
from bot.retrieval.vocab import SHORT_LINE, search_terms
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

POOL_FROM_PASSAGES = 20_000  # fewer passages than this are prepared in the process itself


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of passages' BM25 terms, as a table of their own (row ``i`` is passage
    ``i``'s); their vectors when the workers embedded them (the offline hashed embedder
    only), else their normalised texts."""

    table: TokenTable
    norms: list[str] | None = None
    vectors: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.table)

    @property
    def terms(self) -> list[list[str]]:
        return self.table.lists()


@dataclass(frozen=True)
class _Setup:
    words: list[str]  # the tokenizer's shop words
    hashing: tuple[int, tuple[int, ...], float] | None  # the hashed embedder's dim, n-grams, weight


def prepare_passages(
    tokenizer: ShopTokenizer, embedder: Embedder, texts: Sequence[str], batch: int
) -> Iterator[PreparedBatch]:
    """Per batch of ``batch`` texts, in order: each text normalised and its search terms, as
    :func:`~bot.retrieval.vocab.search_terms` gives them with ``tokenizer``, and, when the
    workers prepared the batch and ``embedder`` is the hashed one, its vectors."""
    batches = [list(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    pooled: Iterator[PreparedBatch | None] = itertools.repeat(None)
    if len(texts) >= POOL_FROM_PASSAGES and procpool.cores() >= 2:
        hashing = None
        if isinstance(embedder, HashingEmbedder) and embedder.tokenizer is None:
            hashing = (embedder.dim, embedder.ngrams, embedder.word_weight)
        setup = _Setup(sorted(tokenizer.words), hashing)
        pooled = (
            got[0] if got is not None else None
            for got in procpool.map_chunks(f"{__name__}:preparer", setup, [[b] for b in batches])
        )
    line_cache: dict[str, str] = {}
    for chunk, got in zip(batches, pooled):
        yield got if got is not None else _cut(tokenizer, chunk, line_cache)


def preparer(setup: _Setup) -> Callable[[list[list[str]]], list[PreparedBatch]]:
    """A worker's work: a tokenizer of the shop's words (and the hashed embedder), preparing
    one batch at a time."""
    tokenizer = ShopTokenizer(setup.words)
    embedder = None
    if setup.hashing is not None:
        dim, ngrams, weight = setup.hashing
        embedder = HashingEmbedder(dim, ngrams=ngrams, word_weight=weight)
    line_cache: dict[str, str] = {}

    def work(chunk: list[list[str]]) -> list[PreparedBatch]:
        cut = _cut(tokenizer, chunk[0], line_cache)
        if embedder is None or cut.norms is None:
            return [cut]
        vectors = embedder.embed_array(cut.norms, normalized=True)
        return [PreparedBatch(cut.table, None, vectors)]

    return work


def _cut(tokenizer: ShopTokenizer, texts: list[str], line_cache: dict[str, str]) -> PreparedBatch:
    norms = [normalize_lines(text, line_cache) for text in texts]
    return PreparedBatch(TokenTable.from_lists([search_terms(tokenizer, n, normalized=True) for n in norms]), norms)


def normalize_lines(text: str, cache: dict[str, str]) -> str:
    """``text`` normalised line by line; short lines (a title line, a type's aspect words)
    repeat across passages and are normalised once, through ``cache``."""
    out = []
    for line in text.split("\n"):
        if len(line) <= SHORT_LINE:
            norm = cache.get(line)
            if norm is None:
                norm = cache[line] = normalize(line)
            out.append(norm)
        else:
            out.append(normalize(line))
    return "\n".join(out)
