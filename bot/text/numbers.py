"""Numbers as buyers write them, one parser for each kind: counts of pieces (3件, 十二件, 两罐),
discount rates (八五折, 8.5折, 九折) and body measures (175cm, 1米75, 一米七, 120斤, 体重60公斤).

Chinese numerals are read by ``cn2an`` on the captured span only, never on the whole message,
so "第二件" stays an ordinal and the digits of an order id are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import cn2an

_CN_NUMERAL_CHARS = "零一二两俩三四五六七八九十百"
NUMERAL = rf"[0-9]+|[{_CN_NUMERAL_CHARS}]+"
# Not inside a longer number, and not an ordinal (第二件).
_NOT_AFTER = rf"(?<![第0-9.{_CN_NUMERAL_CHARS}])"
MAX_COUNT = 999


def to_int(span: str) -> int | None:
    """The value of a numeral span: "12", "十二", "两", "一百二" (120); None if it is none."""
    span = span.strip()
    if not span:
        return None
    if span.isdigit():
        return int(span)
    try:
        value = cn2an.cn2an(span.replace("俩", "两"), "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return int(value) if float(value).is_integer() else None


@dataclass(frozen=True)
class Count:
    """A count of pieces in a text: where, how many, and the words ("十二件")."""

    start: int
    end: int
    n: int
    text: str
    unit: str


@lru_cache(maxsize=16)
def _count_pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.compile(rf"{_NOT_AFTER}({NUMERAL})\s*({alternatives})")


def counts(text: str, units: Iterable[str]) -> list[Count]:
    """Every count of pieces in ``text`` (already normalised) with one of ``units``."""
    unit_tuple = tuple(u for u in units if u)
    if not unit_tuple:
        return []
    out = []
    for m in _count_pattern(unit_tuple).finditer(text):
        n = to_int(m.group(1))
        if n is not None and 0 < n <= MAX_COUNT:
            out.append(Count(m.start(), m.end(), n, m.group(0), m.group(2)))
    return out


# 八五折 / 8.5折 / 85折 / 九折 / 9折
RATE = re.compile(rf"(?<![0-9.{_CN_NUMERAL_CHARS}])([0-9](?:\.?[0-9])?|[一二三四五六七八九]{{1,2}})\s*折")
_CN_DIGIT = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}


def rate_of(span: str) -> Decimal | None:
    """The price factor a discount names: "八五" or "8.5" or "85" → 0.85; "九" → 0.9."""
    digits = "".join(_CN_DIGIT.get(ch, ch) for ch in span).replace(".", "")
    if not digits.isdigit() or digits.startswith("0"):
        return None
    return Decimal(f"0.{digits}")


@dataclass(frozen=True)
class Measures:
    """A buyer's height and weight, as far as the words say."""

    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None


_HEIGHT = (
    re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(?:cm|厘米|公分)"),
    re.compile(r"(?:身高|高)\s*(\d{2,3}(?:\.\d)?)(?![\d.])"),
)
HEIGHT_RANGE = (Decimal(40), Decimal(220))  # a baby's 52cm to a tall adult
_HEIGHT_METRES = (
    re.compile(r"(?<![\d.])1米(\d{1,2})(?![\d.])"),
    re.compile(r"(?<![\d.])1[.](\d{1,2})\s*(?:米|m(?!l))"),
)
_HEIGHT_CN = re.compile(r"一米([一二三四五六七八九])([一二三四五六七八九]?)")
_WEIGHT_UNIT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d)?)\s*(kg|公斤|千克|斤)")
_WEIGHT_WORD = re.compile(r"体重\s*(\d{1,3}(?:\.\d)?)(?![\d.])")
# A bare weight over this is 斤 in everyday speech ("体重120" is 60 kg).
BARE_WEIGHT_JIN_ABOVE = Decimal(100)


def measures(norm: str) -> Measures:
    """Height and weight as a buyer writes them: 175cm, 身高175, 身高70 (a baby), 1米75, 1.75米,
    一米七五, 70kg, 140斤, 体重120 (斤)."""
    height: Decimal | None = None
    for pattern in _HEIGHT:
        if (m := pattern.search(norm)) and HEIGHT_RANGE[0] <= Decimal(m.group(1)) <= HEIGHT_RANGE[1]:
            height = Decimal(m.group(1))
            break
    for pattern in _HEIGHT_METRES:
        if height is None and (m := pattern.search(norm)):
            tail = m.group(1)
            height = Decimal(100 + int(tail) * (10 if len(tail) == 1 else 1))
    if height is None and (m := _HEIGHT_CN.search(norm)):
        ones = _CN_DIGIT.get(m.group(2), "0") if m.group(2) else "0"
        height = Decimal(100 + int(_CN_DIGIT[m.group(1)]) * 10 + int(ones))
    weight: Decimal | None = None
    if m := _WEIGHT_UNIT.search(norm):
        weight = Decimal(m.group(1)) / (2 if m.group(2) == "斤" else 1)
    elif m := _WEIGHT_WORD.search(norm):
        value = Decimal(m.group(1))
        weight = value / 2 if value > BARE_WEIGHT_JIN_ABOVE else value
    return Measures(height, weight)
