"""How many pieces a buyer asks for: 「两袋」, 「3件」, 「各拍一个」 — and the counts that only name
a SKU's pack size (「30包的」 for 25g×30包), which are not quantities."""

from __future__ import annotations

from collections.abc import Sequence

from bot.drafting.matching import flat, quantity_units
from bot.text import numbers
from bot.text.normalize import normalize
from bot.text.numbers import Count

__all__ = ["Count", "counts", "parse_qty", "spec_quantities"]

MAX_QTY = 99  # more is a bulk order for a person, not a quote


def counts(text: str, specs: Sequence[str] = ()) -> list[Count]:
    """Counts of pieces in ``text`` (in its flat form), skipping those that name a spec."""
    spec_text = flat(" ".join(specs))
    body = flat(normalize(text))
    return [
        c for c in numbers.counts(body, quantity_units())
        if c.n <= MAX_QTY and not (spec_text and c.text in spec_text and c.text[0].isdigit())
    ]


def spec_quantities(text: str, specs: Sequence[str] = ()) -> set[int]:
    """Counts in ``text`` that are part of a SKU's spec (30包 in 25g×30包), not a quantity."""
    found: set[int] = set()
    spec_text = flat(" ".join(specs))
    for c in numbers.counts(flat(normalize(text)), quantity_units()):
        if c.text in spec_text:
            found.add(c.n)
    return found


def parse_qty(text: str, specs: Sequence[str] = ()) -> int | None:
    """How many pieces the buyer asks for (两袋, 3件), skipping counts that name a spec."""
    found = counts(text, specs)
    return found[0].n if found else None
