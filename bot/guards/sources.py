"""What a reply may rest on: the shop's facts and the pricing engine, not the buyer's words.

The facts a draft is built from also carry what the buyer said (the question, an offer they
named, their height and weight). A figure found only there is the buyer's claim, so the guards
look things up in the :class:`Evidence` of the facts, which leaves those values out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import orjson

from bot.guards.figures import spans_in_days
from bot.shop.models import Shop
from bot.text.normalize import normalize

# Top-level facts that hold the buyer's own words or figures.
BUYER_KEYS = frozenset({"question", "unknown_offer", "measures", "asked_props", "qty"})
# Buyer values inside a shop fact: the size advice repeats the buyer's height and weight.
_BUYER_NESTED = {"size_advice": frozenset({"height_cm", "weight_kg"})}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def shop_facts(facts: Mapping[str, Any] | None) -> dict[str, Any]:
    """``facts`` without the values the buyer supplied."""
    out: dict[str, Any] = {}
    for key, value in (facts or {}).items():
        if key in BUYER_KEYS:
            continue
        nested = _BUYER_NESTED.get(key)
        if nested and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k not in nested}
        out[key] = value
    return out


class Evidence:
    """The facts of one reply and what the guards look up in the shop's part of them, each
    worked out once: build one per reply checked."""

    def __init__(self, facts: Mapping[str, Any] | None) -> None:
        self.facts: Mapping[str, Any] = facts or {}

    @cached_property
    def text(self) -> str:
        """The shop's part of the facts as one text."""
        return orjson.dumps(shop_facts(self.facts), default=str, option=orjson.OPT_NON_STR_KEYS).decode()

    @cached_property
    def flat(self) -> str:
        """:attr:`text` normalised, spaces removed: for finding a link or a phrase."""
        return normalize(self.text).replace(" ", "")

    @cached_property
    def numbers(self) -> frozenset[Decimal]:
        """Every number stated, with the spoken forms of rates: 0.85 is also 8.5 (折) and 85."""
        found: set[Decimal] = set()
        for s in set(_NUMBER.findall(self.text)):
            try:
                d = Decimal(s).normalize()
            except InvalidOperation:
                continue
            found.add(d)
            if 0 < d < 1:
                found.add((d * 10).normalize())
                found.add((d * 100).normalize())
        return frozenset(found)

    @cached_property
    def days(self) -> frozenset[Decimal]:
        """Every time span stated, in days."""
        return frozenset(spans_in_days(self.flat))


_SHOP_FLAT: dict[str, str] = {}


def shop_flat(shop: Shop) -> str:
    """Everything the shop writes itself (rules, FAQ, product sheets) normalised, spaces
    removed: repeating the shop's own words ("防伪码刮开扫码可查真伪") leads no one away.
    Worked out once per content."""
    key = shop.content_hash
    if key not in _SHOP_FLAT:
        texts = [sec.text for doc in shop.rules for sec in doc.sections] + [f.a for f in shop.faq]
        for product in shop.products.values():
            texts.append(product.model_dump_json())
        _SHOP_FLAT[key] = normalize(" ".join(texts)).replace(" ", "")
    return _SHOP_FLAT[key]
