"""Numbers in a reply must come from the shop's facts or the pricing engine.

What the buyer wrote supports nothing: "9.9元" in the question does not make 9.9 a price. The
buyer's own figures may be said back only in their place — a height with its unit, an offer
the shop does not have with a denial just before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from bot.guards.figures import CN_DIGITS, CN_NUMERAL
from bot.guards.sources import Evidence
from bot.guards.wordlists import load_terms
from bot.text.numbers import rate_of, to_int

# A number not glued to a preceding letter or digit: "TS01" and sku codes are ids, not figures.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")
# Tiny counts ("1件", "2个颜色") are wording, not claims.
_ALWAYS_OK = frozenset({Decimal(0), Decimal(1), Decimal(2)})
_N, _D = CN_NUMERAL, CN_DIGITS
# Prices said in words or the spoken way: 九块九, 三十九元, 9块9, 9元9角, 九毛九, 五折.
_SPOKEN = [
    re.compile(rf"(?P<yuan>\d+|[{_N}]+)\s*块\s*(?P<jiao>\d|[{_D}])?(?:\s*[毛角])?(?![\d{_N}件个条双套盒包只份])"),
    re.compile(rf"(?P<yuan>\d+|[{_N}]+)\s*元\s*(?P<jiao>\d|[{_D}])\s*[角毛]"),
    re.compile(rf"(?P<yuan>[{_N}]+)\s*元"),
    re.compile(rf"(?<![\d{_N}])(?P<jiao>\d|[{_D}])\s*毛\s*(?P<fen>\d|[{_D}])?"),
    re.compile(rf"(?<![\d{_N}])(?P<rate>[{_D}]{{1,2}})\s*折"),
]
_DENIAL_WINDOW = 6  # characters before a named offer searched for a denial


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s).normalize()
    except InvalidOperation:
        return None


def _spoken_value(m: re.Match[str]) -> Decimal | None:
    groups = m.groupdict()
    if groups.get("rate") is not None:
        rate = rate_of(groups["rate"])
        return rate.normalize() if rate is not None else None
    parts = [to_int(groups[k]) if groups.get(k) else 0 for k in ("yuan", "jiao", "fen")]
    if any(p is None for p in parts):
        return None
    yuan, jiao, fen = (Decimal(p or 0) for p in parts)
    return (yuan + jiao / 10 + fen / 100).normalize()


def numbers_in(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + "※" * (end - start) + text[end:]
    return text


def _restatements(text: str, facts: Evidence) -> Iterator[tuple[int, int]]:
    """Spans where the reply says the buyer's own figures back in their place."""
    measures = facts.facts.get("measures") or {}
    if isinstance(measures, dict):
        height, weight = measures.get("height_cm"), measures.get("weight_kg")
        frames = []
        if height:
            h = re.escape(str(height))
            frames += [rf"(?<![\d.]){h}\s*(?:cm|厘米|公分)", rf"身高\s*{h}(?![\d.])"]
        if weight:
            w = re.escape(str(weight))
            frames += [rf"(?<![\d.]){w}\s*(?:kg|公斤|千克)", rf"体重\s*{w}(?![\d.])"]
            kg = _dec(str(weight))
            if kg is not None:
                jin = format((kg * 2).normalize(), "f")
                frames.append(rf"(?<![\d.]){re.escape(jin)}\s*斤")
        for frame in frames:
            for m in re.finditer(frame, text):
                yield m.span()
    offer = facts.facts.get("unknown_offer")
    if isinstance(offer, str) and offer.strip():
        denials = load_terms("offer_denial")
        written = r"\s*".join(re.escape(ch) for ch in offer.lower().replace(" ", ""))
        for m in re.finditer(written, text):
            before = text[max(0, m.start() - _DENIAL_WINDOW) : m.start()]
            if any(d in before for d in denials):
                yield m.span()


def unsupported_numbers(text: str, facts: Evidence) -> list[str]:
    """Numbers of the normalised reply ``text`` the shop's facts do not state, in order of
    appearance (a spoken price as written, e.g. ``九块九``)."""
    allowed = facts.numbers
    text = _blank(text, list(_restatements(text, facts)))
    found: list[tuple[int, str]] = []
    spoken: list[tuple[int, int]] = []
    for pattern in _SPOKEN:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in spoken):
                continue
            spoken.append(m.span())
            d = _spoken_value(m)
            if d is not None and d not in _ALWAYS_OK and d not in allowed:
                found.append((m.start(), m.group(0).strip()))
    for m in _NUMBER.finditer(_blank(text, spoken)):
        d = _dec(m.group(0))
        if d is not None and d not in _ALWAYS_OK and d not in allowed:
            found.append((m.start(), m.group(0)))
    return list(dict.fromkeys(value for _, value in sorted(found)))
