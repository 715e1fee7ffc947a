"""Another buyer's data (phone, nick, name, address, order id) or the system prompt in a reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.guards.pii import MOBILE
from bot.shop.models import Shop
from bot.text.normalize import normalize

_SHINGLE = 16  # this many consecutive characters of the system prompt count as a leak
_MIN_ALIAS = 2


@dataclass(frozen=True)
class _LeakIndex:
    pattern: re.Pattern[str] | None
    owner: dict[str, set[str]]  # sensitive string -> buyer ids it belongs to


_INDEXES: dict[int, tuple[Shop, _LeakIndex]] = {}


def leak_index(shop: Shop) -> _LeakIndex:
    """The strings of ``shop``'s buyers that would be a leak, built once per shop."""
    cached = _INDEXES.get(id(shop))
    if cached is not None and cached[0] is shop:
        return cached[1]
    owner: dict[str, set[str]] = {}

    def add(value: str, buyer_id: str) -> None:
        value = normalize(value).replace(" ", "")
        if len(value) >= _MIN_ALIAS:
            owner.setdefault(value, set()).add(buyer_id)

    for buyer in shop.buyers.values():
        add(buyer.phone, buyer.id)
        add(buyer.nick, buyer.id)
    for order in shop.orders:
        add(order.tid, order.buyer)
        add(order.address.phone, order.buyer)
        add(order.address.name, order.buyer)
        add(order.address.detail, order.buyer)
    pattern = None
    if owner:
        alts = []
        for value in sorted(owner, key=lambda v: (-len(v), v)):
            esc = re.escape(value)
            alts.append(rf"(?<!\d){esc}(?!\d)" if value.isdigit() else esc)
        pattern = re.compile("|".join(alts))
    index = _LeakIndex(pattern, owner)
    _INDEXES[id(shop)] = (shop, index)
    return index


def other_buyers_data(normalized: str, shop: Shop, buyer_id: str | None) -> list[str]:
    """Sensitive strings of buyers other than ``buyer_id`` found in ``normalized`` text
    (normalised, spaces removed); unmasked mobile numbers not the buyer's own count too."""
    index = leak_index(shop)
    found: list[str] = []
    if index.pattern is not None:
        for m in index.pattern.finditer(normalized):
            owners = index.owner.get(m.group(0), set())
            if buyer_id is not None and buyer_id in owners:
                continue  # the buyer's own data (or shared with them, e.g. the same name)
            if m.group(0) not in found:
                found.append(m.group(0))
    own_phone = shop.buyers[buyer_id].phone if buyer_id in shop.buyers else None
    for m in MOBILE.finditer(normalized):
        digits = m.group(1) + m.group(2) + m.group(3)
        if digits != own_phone and digits not in found:
            found.append(digits)
    return found


@lru_cache(maxsize=32)
def _shingles(secret: str) -> frozenset[str]:
    flat = normalize(secret).replace(" ", "")
    return frozenset(flat[i : i + _SHINGLE] for i in range(max(0, len(flat) - _SHINGLE + 1)))


def echoes_secret(normalized: str, secrets: Sequence[str]) -> bool:
    """True when ``normalized`` repeats a long enough stretch of any secret text verbatim."""
    if len(normalized) < _SHINGLE:
        return False
    windows = {normalized[i : i + _SHINGLE] for i in range(len(normalized) - _SHINGLE + 1)}
    return any(not windows.isdisjoint(_shingles(s)) for s in secrets if s)
