"""Links, QR codes, accounts and contact details that would take the buyer off the chat.

A finding the shop's own facts state (a link in a rule, the shop's service number) is not
one. Patterns and words are data files: ``link_patterns.txt``, ``link_tlds.txt``,
``link_words.txt``.
"""

from __future__ import annotations

from bot.guards.sources import Evidence, shop_flat
from bot.guards.wordlists import load_patterns, matcher
from bot.shop.models import Shop


def links_and_contacts(normalized: str, facts: Evidence, shop: Shop | None = None) -> list[str]:
    """Links, handles and pay-to words in ``normalized`` text (normalised, spaces kept) that
    neither the facts nor the shop's own texts state, in order of appearance."""
    own = shop_flat(shop) if shop is not None else ""
    found: list[tuple[int, str]] = []
    for pattern in load_patterns("link_patterns"):
        for m in pattern.finditer(normalized):
            value = m.group(0).strip()
            if value.replace(" ", "") not in facts.flat and value.replace(" ", "") not in own:
                found.append((m.start(), value))
    flat = normalized.replace(" ", "")
    for word in matcher("link_words").find(flat, skip_negated=True):
        if word not in facts.flat and word not in own:
            found.append((normalized.find(word) % (len(normalized) + 1), word))
    out: list[str] = []
    for _, value in sorted(found):
        if not any(value in seen or seen in value for seen in out):
            out.append(value)
    return out
