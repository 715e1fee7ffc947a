"""How many pieces a buyer asks for: 「两袋」, 「3件」, 「各拍一个」 — and the counts that only name
a SKU's pack size (「30包的」 for 25g×30包), which are not quantities."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.drafting.matching import flat, quantity_units
from bot.text.normalize import normalize

_COUNT = r"(?<![第0-9.])([0-9]+|[一二两俩三四五六七八九十])"  # 第二件 is an ordinal, not a count
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
MAX_QTY = 99  # more is a bulk order for a person, not a quote


@dataclass(frozen=True)
class Count:
    """A count of pieces in a text (the text's :func:`flat` form): where and how many."""

    start: int
    end: int
    n: int
    text: str


@lru_cache(maxsize=1)
def _qty_pattern() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in quantity_units())
    return re.compile(_COUNT + r"\s*(" + units + ")")


def _count(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else _CN_DIGITS.get(raw)


def counts(text: str, specs: Sequence[str] = ()) -> list[Count]:
    """Counts of pieces in ``text`` (in its flat form), skipping those that name a spec."""
    spec_text = flat(" ".join(specs))
    body = flat(normalize(text))
    out = []
    for m in _qty_pattern().finditer(body):
        if spec_text and m.group(0) in spec_text and not _counts_anyway(body, m):
            continue
        n = _count(m.group(1))
        if n is not None and 0 < n <= MAX_QTY:
            out.append(Count(m.start(), m.end(), n, m.group(0)))
    return out


def _counts_anyway(body: str, m: re.Match[str]) -> bool:
    """「一包」 is a count even where a SKU is 「80抽×1包」: words for one are counts."""
    return not m.group(1).isdigit()


def spec_quantities(text: str, specs: Sequence[str] = ()) -> set[int]:
    """Counts in ``text`` that are part of a SKU's spec (30包 in 25g×30包), not a quantity."""
    found: set[int] = set()
    spec_text = flat(" ".join(specs))
    for m in _qty_pattern().finditer(flat(normalize(text))):
        if m.group(0) and m.group(0) in spec_text:
            n = _count(m.group(1))
            if n is not None:
                found.add(n)
    return found


def parse_qty(text: str, specs: Sequence[str] = ()) -> int | None:
    """How many pieces the buyer asks for (两袋, 3件), skipping counts that name a spec."""
    found = counts(text, specs)
    return found[0].n if found else None
