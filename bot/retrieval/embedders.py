"""Embedders: an offline hashed embedder (default) and an OpenAI-compatible one.

Neither is chromadb's default embedding function: vectors are always computed here and
handed to chroma explicitly, so chroma never loads or downloads a model.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import zlib
from collections import Counter
from typing import Protocol, runtime_checkable

import numpy as np

from bot.config import Settings
from bot.errors import ConfigError, RetryModel
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of ``dim`` floats; ``name`` identifies the vector space
    (an index built with one name is never queried with another)."""

    dim: int
    name: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    return h % dim, (1.0 if (h >> 31) & 1 else -1.0)


class _Growing:
    """A numpy array that grows by doubling, so appending n values costs O(n) overall."""

    def __init__(self, dtype: type) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: list[float] | list[int]) -> None:
        need = self.size + len(values)
        if need > self.data.size:
            bigger = np.zeros(max(need, 2 * self.data.size), dtype=self.data.dtype)
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger
        self.data[self.size : need] = values
        self.size = need


class HashingEmbedder:
    """Deterministic offline vectors: signed feature hashing of character 1-3-grams of
    each Chinese/alphanumeric run, plus jieba words when a tokenizer is given; sublinear
    term frequency; L2-normalised. No weights, no network; the same text always gives the
    same vector, in every process.

    Batches are vectorised: each distinct run of characters is turned into feature ids once
    (shop texts repeat titles and clauses), and counting, weighting and normalising happen
    in numpy for the whole batch."""

    VOCAB_LIMIT = 2_000_000  # distinct features remembered; forgotten all at once beyond
    RUN_CACHE_LIMIT = 300_000

    def __init__(
        self,
        dim: int = 256,
        *,
        ngrams: tuple[int, ...] = (1, 2, 3),
        tokenizer: ShopTokenizer | None = None,
        word_weight: float = 1.5,
    ) -> None:
        if dim < 16:
            raise ValueError("dim must be at least 16")
        if not ngrams or min(ngrams) < 1:
            raise ValueError("ngrams must be positive sizes")
        self.dim = dim
        self.ngrams = tuple(sorted(set(ngrams)))
        self.tokenizer = tokenizer
        self.word_weight = word_weight
        words = "+w" if tokenizer is not None else ""
        self.name = f"hash-v1-{dim}-{''.join(map(str, self.ngrams))}{words}"
        self._lock = threading.Lock()  # guards the feature vocabulary below
        self._reset_vocab()

    def _reset_vocab(self) -> None:
        self._ids: dict[str, int] = {}
        self._cols = _Growing(np.int64)  # feature id → dimension
        self._factors = _Growing(np.float64)  # feature id → sign × (word weight)
        self._runs: dict[str, list[int]] = {}

    # --- features ------------------------------------------------------------------------

    def _run_features(self, run: str) -> list[str]:
        if run.isascii():  # a Latin word or a number: one feature
            return [run]
        size = len(run)
        return [run[i : i + n] for n in self.ngrams for i in range(size - n + 1)]

    def features(self, text: str, *, normalized: bool = False) -> Counter[str]:
        """Feature counts of ``text``."""
        norm = text if normalized else normalize(text)
        counts: Counter[str] = Counter()
        for run in _CJK_RUN.findall(norm):
            counts.update(self._run_features(run))
        if self.tokenizer is not None:
            for word in self.tokenizer.search_terms(norm, normalized=True):
                if len(word) >= 2:
                    counts["w:" + word] += 1
        return counts

    def _feature_ids(self, features: list[str]) -> list[int]:
        ids = self._ids
        out: list[int] = []
        new: list[str] = []
        for feature in features:
            fid = ids.get(feature)
            if fid is None:
                fid = ids[feature] = len(ids)
                new.append(feature)
            out.append(fid)
        if new:
            buckets = [_bucket(f, self.dim) for f in new]
            self._cols.extend([b[0] for b in buckets])
            self._factors.extend(
                [b[1] * (self.word_weight if f[:2] == "w:" else 1.0) for f, b in zip(new, buckets)]
            )
        return out

    def _text_ids(self, norm: str) -> list[int]:
        out: list[int] = []
        runs = self._runs
        for run in _CJK_RUN.findall(norm):
            ids = runs.get(run)
            if ids is None:
                ids = self._feature_ids(self._run_features(run))
                if len(runs) < self.RUN_CACHE_LIMIT:
                    runs[run] = ids
            out.extend(ids)
        if self.tokenizer is not None:
            words = self.tokenizer.search_terms(norm, normalized=True)
            out.extend(self._feature_ids(["w:" + w for w in words if len(w) >= 2]))
        return out

    # --- vectors -------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str], *, normalized: bool = False) -> np.ndarray:
        """Vectors of ``texts`` as a float32 (len(texts), dim) array. ``normalized`` says the
        texts already went through :func:`normalize` (saves doing it twice on ingest)."""
        if len(texts) <= 2:  # a query: no shared state touched, no lock taken
            return np.stack([self._one(t, normalized) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        norms = texts if normalized else [normalize(t) for t in texts]
        with self._lock:
            if len(self._ids) > self.VOCAB_LIMIT:
                self._reset_vocab()
            rows = [self._text_ids(t) for t in norms]
            return self._vectors(rows)

    def _one(self, text: str, normalized: bool) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float64)
        counts = self.features(text, normalized=normalized)
        if counts:
            cols = np.empty(len(counts), dtype=np.int64)
            vals = np.empty(len(counts), dtype=np.float64)
            for j, (feature, count) in enumerate(counts.items()):
                col, sign = _bucket(feature, self.dim)
                cols[j] = col
                vals[j] = sign * (1.0 + math.log(count)) * (self.word_weight if feature[:2] == "w:" else 1.0)
            np.add.at(vec, cols, vals)
            length = float(np.linalg.norm(vec))
            if length > 0:
                vec /= length
        return vec.astype(np.float32)

    def _vectors(self, rows: list[list[int]]) -> np.ndarray:
        """Count each (row, feature) pair, weight by 1 + ln(count), add into the hashed
        dimensions and L2-normalise — all rows at once."""
        n = len(rows)
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=n)
        total = int(lengths.sum())
        if total == 0:
            return np.zeros((n, self.dim), dtype=np.float32)
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=total)
        vocab = len(self._ids)
        keys, counts = np.unique(np.repeat(np.arange(n, dtype=np.int64), lengths) * vocab + flat, return_counts=True)
        row, fid = np.divmod(keys, vocab)
        weights = (1.0 + np.log(counts)) * self._factors.data[fid]
        cells = row * self.dim + self._cols.data[fid]
        out = np.bincount(cells, weights=weights, minlength=n * self.dim).reshape(n, self.dim)
        length = np.sqrt(np.einsum("ij,ij->i", out, out))
        np.divide(out, length[:, None], out=out, where=length[:, None] > 0)
        return out.astype(np.float32)


class OpenAIEmbedder:
    """``/v1/embeddings`` of any OpenAI-compatible provider (OPENAI_BASE_URL, OPENAI_API_KEY,
    XIAOER_EMBEDDING_MODEL). The dimension is learnt from the first call unless given."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dim: int | None = None,
        batch_size: int = 256,
        timeout_s: float = 30.0,
        client: object | None = None,
    ) -> None:
        if not model:
            raise ConfigError("an embedding model name is required")
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        from openai import OpenAI

        self.model = model
        self.batch_size = batch_size
        self._client = client or OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=1
        )
        self.name = f"openai-{model}"
        self.dim = dim or len(self.embed(["维度"])[0])

    def embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self.batch_size]]
            try:
                response = self._client.embeddings.create(model=self.model, input=batch)  # type: ignore[attr-defined]
            except openai.OpenAIError as exc:
                raise RetryModel(f"embedding request failed: {exc}") from exc
            rows = sorted(response.data, key=lambda d: d.index)
            out.extend([float(x) for x in row.embedding] for row in rows)
        return out


def make_embedder(settings: Settings, *, tokenizer: ShopTokenizer | None = None) -> Embedder:
    """The configured embedder: OpenAI-compatible when ``embedding_model`` is set, else the
    offline hashed embedder."""
    if settings.embedding_model:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbedder(settings.embedding_model, base_url=settings.openai_base_url, api_key=key)
    return HashingEmbedder(tokenizer=tokenizer)
