"""Normalise buyer text: traditional → simplified, full-width → half-width, colloquial forms.

``normalize`` is pure and cheap (tens of microseconds); the router and the retriever call it
on every query, and the retriever on every passage.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC

DATA = Path(__file__).parent / "data"
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """Read a ``form<TAB>replacement`` file; ``#`` starts a comment line."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        src, _, dst = line.partition("\t")
        if src and dst and src != dst:
            pairs.append((src, dst))
    return sorted(pairs, key=lambda p: -len(p[0]))


@lru_cache(maxsize=1)
def _colloquial() -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = load_pairs(DATA / "colloquial.tsv")
    mapping = dict(pairs)
    pattern = re.compile("|".join(re.escape(src) for src, _ in pairs))
    return pattern, mapping


def to_halfwidth(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Return the canonical form of ``text`` used for matching (not for display)."""
    if not text:
        return ""
    text = to_halfwidth(text)
    text = _t2s().convert(text)
    pattern, mapping = _colloquial()
    text = pattern.sub(lambda m: mapping[m.group(0)], text)
    text = _SPACES.sub(" ", text).strip().lower()
    return text
