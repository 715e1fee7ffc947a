"""Embedders: an offline hashed embedder (default) and an OpenAI-compatible one.

Neither is chromadb's default embedding function: vectors are always computed here and
handed to chroma explicitly, so chroma never loads or downloads a model.
"""

from __future__ import annotations

import math
import re
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


class HashingEmbedder:
    """Deterministic offline vectors: signed feature hashing of character 1-3-grams of
    each Chinese/alphanumeric run, plus jieba words when a tokenizer is given; sublinear
    term frequency; L2-normalised. No weights, no network; the same text always gives the
    same vector, in every process."""

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
        self._cache: dict[str, tuple[int, float]] = {}
        self._line_cache: dict[str, Counter[str]] = {}

    def _index(self, feature: str) -> tuple[int, float]:
        hit = self._cache.get(feature)
        if hit is None:
            hit = _bucket(feature, self.dim)
            if len(self._cache) < 500_000:
                self._cache[feature] = hit
        return hit

    def features(self, text: str) -> Counter[str]:
        """Feature counts of ``text``, line by line; short lines (titles, aspect words that
        repeat across passages) are computed once."""
        counts: Counter[str] = Counter()
        for line in text.split("\n"):
            if len(line) <= 80:
                cached = self._line_cache.get(line)
                if cached is None:
                    cached = self._features(line)
                    if len(self._line_cache) < 100_000:
                        self._line_cache[line] = cached
                counts.update(cached)
            else:
                counts.update(self._features(line))
        return counts

    def _features(self, text: str) -> Counter[str]:
        norm = normalize(text)
        counts: Counter[str] = Counter()
        runs = _CJK_RUN.findall(norm)
        counts.update(r for r in runs if r.isascii())  # a Latin word or a number: one feature
        for run in runs:
            if not run.isascii():
                size = len(run)
                counts.update(run[i : i + n] for n in self.ngrams for i in range(size - n + 1))
        if self.tokenizer is not None:
            for word in self.tokenizer.search_terms(norm, normalized=True):
                if len(word) >= 2:
                    counts["w:" + word] += 1
        return counts

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            vec = out[row]
            features = self.features(text)
            if not features:
                continue
            index = self._index
            cols = np.empty(len(features), dtype=np.int64)
            vals = np.empty(len(features), dtype=np.float32)
            for j, (feature, count) in enumerate(features.items()):
                col, sign = index(feature)
                weight = 1.0 + math.log(count)
                if feature[:2] == "w:":
                    weight *= self.word_weight
                cols[j] = col
                vals[j] = sign * weight
            np.add.at(vec, cols, vals)
            norm = float(np.linalg.norm(vec))
            if norm > 0:
                vec /= norm
        return out


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
