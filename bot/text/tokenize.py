"""jieba tokenising with a per-shop user dictionary, so 牛仔裤 or 卫衣 stay whole."""

from __future__ import annotations

import importlib
import logging
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from bot.text.normalize import normalize


def _import_jieba() -> ModuleType:
    """jieba, imported without setuptools' ``pkg_resources``: jieba finds its data files with
    it when it can, and importing it takes most of a second of every start; without it jieba
    opens the same files beside its own module."""
    hidden = "pkg_resources" not in sys.modules
    if hidden:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import fails: fallback
    try:
        return importlib.import_module("jieba")
    finally:
        if hidden and "pkg_resources" in sys.modules and sys.modules["pkg_resources"] is None:
            del sys.modules["pkg_resources"]  # a later import of it works as ever


jieba = _import_jieba()

jieba.setLogLevel(logging.WARNING)

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
# jieba cuts every run of these characters on its own (jieba.re_han_default); the terms of a
# run therefore do not depend on the text around it and can be cached per run.
_BLOCK = jieba.re_han_default
CACHE_LIMIT = 200_000  # cached runs per tokenizer; the cache restarts empty when full
_STOP = frozenset("的 了 吗 呢 吧 啊 呀 哦 么 嘛 是 我 你 亲 在 有 和 与 也 都 就 这 那 个 一 请 下 哈".split())

_BASE_LOCK = threading.Lock()
_BASE: list[tuple[dict[str, int], int]] = []


def _base_dictionary(cache_dir: Path | None) -> tuple[dict[str, int], int]:
    """jieba's main dictionary, loaded once per process (loading it takes about a second),
    whichever tokenizer asks first; ``cache_dir`` is where jieba keeps its parsed copy."""
    with _BASE_LOCK:
        if not _BASE:
            loader = jieba.Tokenizer()
            if cache_dir is not None:
                cache_dir.mkdir(parents=True, exist_ok=True)
                loader.tmp_dir = str(cache_dir)
            loader.initialize()
            _BASE.append((loader.FREQ, loader.total))
        return _BASE[0]


class ShopTokenizer:
    """A jieba tokenizer of its own (not the global one) that knows the shop's words.

    Each instance copies jieba's main dictionary (a few milliseconds) instead of loading it,
    so shop words added here never leak into another shop's tokenizer.
    """

    def __init__(self, words: Iterable[str] = (), *, cache_dir: Path | None = None) -> None:
        freq, total = _base_dictionary(cache_dir)
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ = dict(freq)
        self._jieba.total = total
        self._jieba.initialized = True
        self.words: set[str] = set()
        self._search_cache: dict[str, list[str]] = {}
        for word in words:
            self.add_word(word)

    def add_word(self, word: str, freq: int = 20000) -> None:
        word = normalize(word)
        if len(word) >= 2 and word not in self.words:
            self.words.add(word)
            self._jieba.add_word(word, freq=freq)
            self._search_cache = {}  # a new word can change how cached runs are cut

    def cut(self, text: str, *, normalized: bool = False) -> list[str]:
        """All tokens of ``text`` (normalised first unless ``normalized``)."""
        if not normalized:
            text = normalize(text)
        return [t for t in self._jieba.lcut(text) if t.strip()]

    def cut_plain(self, text: str) -> list[str]:
        """Dictionary words only (no HMM guessing of new words); ``text`` must be normalised."""
        return [t for t in self._jieba.lcut(text, HMM=False) if t.strip()]

    def terms(self, text: str, *, normalized: bool = False) -> list[str]:
        """Tokens useful for search: no punctuation, no stop words."""
        return [
            t for t in self.cut(text, normalized=normalized) if _WORDISH.search(t) and t not in _STOP
        ]

    def search_terms(self, text: str, *, normalized: bool = False) -> list[str]:
        """Like :meth:`terms`, but long words also yield the dictionary words inside them
        (不锈钢保温杯 → 不锈钢, 保温杯, 不锈钢保温杯), so a part matches the whole.

        jieba works run by run (a run is a stretch of Chinese, Latin letters and digits
        between spaces and punctuation), so each distinct run is cut once and its terms are
        reused: shop texts repeat the same titles, headings and clauses many times."""
        if not normalized:
            text = normalize(text)
        out: list[str] = []
        cache = self._search_cache
        for block in _BLOCK.split(text):
            if not block:
                continue
            terms = cache.get(block)
            if terms is None:
                if _BLOCK.match(block):
                    terms = self._search_block(block)
                    if len(cache) >= CACHE_LIMIT:
                        cache = self._search_cache = {}
                    cache[block] = terms
                else:  # spaces and punctuation: jieba yields them char by char
                    out.extend(ch for ch in block if _WORDISH.match(ch) and ch not in _STOP)
                    continue
            out.extend(terms)
        return out

    def _search_block(self, block: str) -> list[str]:
        return [
            t
            for t in self._jieba.cut_for_search(block, HMM=False)
            if t.strip() and _WORDISH.search(t) and t not in _STOP
        ]
