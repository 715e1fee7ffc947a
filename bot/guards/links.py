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
    def shop_writes(value: str) -> bool:
        # The shop's texts are read only for what the facts do not state: most replies carry
        # no link at all, and reading a big shop's texts takes seconds.
        return shop is not None and value in shop_flat(shop)

    found: list[tuple[int, str]] = []
    for pattern in load_patterns("link_patterns"):
        for m in pattern.finditer(normalized):
            value = m.group(0).strip()
            if value.replace(" ", "") not in facts.flat and not shop_writes(value.replace(" ", "")):
                found.append((m.start(), value))
    flat = normalized.replace(" ", "")
    for word in matcher("link_words").find(flat, skip_negated=True):
        if word not in facts.flat and not shop_writes(word):
            found.append((normalized.find(word) % (len(normalized) + 1), word))
    out: list[str] = []
    for _, value in sorted(found):
        if not any(value in seen or seen in value for seen in out):
            out.append(value)
    return out
