"""Numbers in a reply must come from the facts the reply was drafted from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# A number not glued to a preceding letter or digit: "TS01" and sku codes are ids, not figures.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")
_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Tiny counts ("1件", "2个颜色") are wording, not claims.
_ALWAYS_OK = frozenset({Decimal(0), Decimal(1), Decimal(2)})


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s).normalize()
    except InvalidOperation:
        return None


def numbers_in(text: str) -> list[str]:
    return _NUMBER.findall(text)


def allowed_numbers(facts: Mapping[str, Any] | None, extra: Iterable[str] = ()) -> set[Decimal]:
    """Every number stated anywhere in ``facts`` (and ``extra`` texts), with the usual
    spoken forms of rates: 0.85 is also 8.5 (折) and 85 (85折 / 85%)."""
    blob = json.dumps(facts or {}, ensure_ascii=False, default=str)
    found: set[Decimal] = set()
    for chunk in [blob, *extra]:
        for s in _ANY_NUMBER.findall(chunk):
            d = _dec(s)
            if d is None:
                continue
            found.add(d)
            if 0 < d < 1:
                found.add((d * 10).normalize())
                found.add((d * 100).normalize())
    return found


def unsupported(text: str, allowed: set[Decimal]) -> list[str]:
    """Numbers of ``text`` that are not in ``allowed``, in order of appearance."""
    bad: list[str] = []
    for s in numbers_in(text):
        d = _dec(s)
        if d is None or d in _ALWAYS_OK or d in allowed:
            continue
        if s not in bad:
            bad.append(s)
    return bad
