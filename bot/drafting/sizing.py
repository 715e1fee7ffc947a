"""Size advice from a product's size chart: which rows fit a buyer's height and weight.

Columns are recognised by their names (a column whose name contains 身高 or 体重); cells are
ranges like ``160-165`` (inclusive at both ends). Nothing here knows any particular shop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

from bot.shop.models import SizeChart
from bot.text.numbers import Measures

_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[-~～至到]\s*(\d+(?:\.\d+)?)\s*$")
_SINGLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def plain(value: Decimal) -> str:
    """``Decimal('70.0')`` → ``"70"``, ``Decimal('62.5')`` → ``"62.5"``."""
    return format(value.normalize(), "f")


class SizeAdvice(BaseModel):
    """The sizes that fit; ``fits`` is ordered small to large. Empty when nothing fits."""

    product_id: str
    size_column: str
    height_cm: str | None
    weight_kg: str | None
    fits: list[str]
    by_height: list[str]
    by_weight: list[str]
    rows: list[dict[str, str]]  # the chart rows of ``fits`` (all columns), for citing


def _span(cell: str) -> tuple[Decimal, Decimal] | None:
    m = _RANGE.match(cell)
    if m:
        lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
        return (lo, hi) if lo <= hi else (hi, lo)
    m = _SINGLE.match(cell)
    if m:
        v = Decimal(m.group(1))
        return v, v
    return None


def _column(chart: SizeChart, word: str) -> int | None:
    return next((i for i, c in enumerate(chart.columns) if word in c), None)


def advise(product_id: str, chart: SizeChart, measures: Measures) -> SizeAdvice | None:
    """Rows of ``chart`` fitting ``measures``; None when the chart has neither a height nor a
    weight column, or the buyer gave neither."""
    hcol, wcol = _column(chart, "身高"), _column(chart, "体重")
    if (hcol is None or measures.height_cm is None) and (wcol is None or measures.weight_kg is None):
        return None
    size_col = 0

    def matching(col: int | None, value: Decimal | None) -> list[int]:
        if col is None or value is None:
            return []
        out = []
        for i, row in enumerate(chart.rows):
            span = _span(row[col])
            if span and span[0] <= value <= span[1]:
                out.append(i)
        return out

    by_h = matching(hcol, measures.height_cm)
    by_w = matching(wcol, measures.weight_kg)
    if by_h and by_w:
        both = [i for i in by_h if i in by_w]
        # Height and weight point at different rows: the larger fits both ways (a loose
        # fit is wearable, a tight one is not).
        fits = both or [max(max(by_h), max(by_w))]
    else:
        fits = by_h or by_w
    return SizeAdvice(
        product_id=product_id,
        size_column=chart.columns[size_col],
        height_cm=plain(measures.height_cm) if measures.height_cm is not None else None,
        weight_kg=plain(measures.weight_kg) if measures.weight_kg is not None else None,
        fits=[chart.rows[i][size_col] for i in fits],
        by_height=[chart.rows[i][size_col] for i in by_h],
        by_weight=[chart.rows[i][size_col] for i in by_w],
        rows=[dict(zip(chart.columns, chart.rows[i])) for i in fits],
    )
