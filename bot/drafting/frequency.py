"""How many of the shop's texts contain a word, found without reading every text per word.

:class:`~bot.drafting.relevance.Relevance` weighs a question's words by how rare they are in
the shop's texts: a new word used to be looked for in each of them (a big shop has hundreds
of thousands). Here equal texts are kept once with how often they occur, and each character
points at the texts that have it; a word is looked for only in the texts having every one of
its characters, the rarest character's first. The count is the one reading every text gives.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

_FEW = 64  # candidates this few are checked at once, not narrowed by more characters


class TextCounts:
    """The texts of one shop (in :func:`~bot.drafting.matching.flat` form) and, per character,
    the distinct texts having it."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts = Counter(texts)
        self.total = sum(counts.values())
        self.texts: tuple[str, ...] = tuple(counts)
        self._weights = [counts[t] for t in self.texts]
        having: dict[str, list[int]] = {}
        for i, text in enumerate(self.texts):
            for ch in set(text):
                having.setdefault(ch, []).append(i)
        self._having = {ch: np.array(ids, dtype=np.int32) for ch, ids in having.items()}

    def candidates(self, word: str) -> list[int]:
        """The distinct texts having every character of ``word`` (all texts for ``""``)."""
        lists: list[npt.NDArray[np.int32]] = []
        for ch in set(word):
            ids = self._having.get(ch)
            if ids is None:
                return []
            lists.append(ids)
        if not lists:
            return list(range(len(self.texts)))
        lists.sort(key=len)
        found = lists[0]
        for ids in lists[1:]:
            if len(found) <= _FEW:
                break
            found = np.intersect1d(found, ids, assume_unique=True)
        return found.tolist()

    def count(self, word: str, fuzzy: re.Pattern[str] | None = None) -> int:
        """Texts containing ``word``; when none does and ``fuzzy`` is given, texts where
        ``fuzzy`` (a pattern that matches only where every character of ``word`` is) finds it."""
        ids = self.candidates(word)
        texts, weights = self.texts, self._weights
        found = sum(weights[i] for i in ids if word in texts[i])
        if found == 0 and fuzzy is not None:
            found = sum(weights[i] for i in ids if fuzzy.search(texts[i]))
        return found
