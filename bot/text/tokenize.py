"""jieba tokenising with a per-shop user dictionary, so 牛仔裤 or 卫衣 stay whole."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba

from bot.text.normalize import normalize

jieba.setLogLevel(logging.WARNING)

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
_STOP = frozenset("的 了 吗 呢 吧 啊 呀 哦 么 嘛 是 我 你 亲 在 有 和 与 也 都 就 这 那 个 一 请 下 哈".split())


class ShopTokenizer:
    """A jieba tokenizer of its own (not the global one) that knows the shop's words."""

    def __init__(self, words: Iterable[str] = (), *, cache_dir: Path | None = None) -> None:
        self._jieba = jieba.Tokenizer()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = str(cache_dir)
        self._jieba.initialize()
        self.words: set[str] = set()
        for word in words:
            self.add_word(word)

    def add_word(self, word: str, freq: int = 20000) -> None:
        word = normalize(word)
        if len(word) >= 2 and word not in self.words:
            self.words.add(word)
            self._jieba.add_word(word, freq=freq)

    def cut(self, text: str, *, normalized: bool = False) -> list[str]:
        """All tokens of ``text`` (normalised first unless ``normalized``)."""
        if not normalized:
            text = normalize(text)
        return [t for t in self._jieba.lcut(text) if t.strip()]

    def terms(self, text: str, *, normalized: bool = False) -> list[str]:
        """Tokens useful for search: no punctuation, no stop words."""
        return [
            t for t in self.cut(text, normalized=normalized) if _WORDISH.search(t) and t not in _STOP
        ]
