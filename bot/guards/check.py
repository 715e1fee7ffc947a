"""The one entry point of the guards: every check on one reply, pure and fast (a few milliseconds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.guards.flag import (
    AD_LAW,
    DATA_LEAK,
    LINK_OR_CONTACT,
    OFF_PLATFORM,
    POLICY_PROMISE,
    PROMPT_LEAK,
    UNSUPPORTED_NUMBER,
    Flag,
)
from bot.guards.leaks import echoes_secret, leak_index, other_buyers_data
from bot.guards.links import links_and_contacts
from bot.guards.numbers import unsupported_numbers
from bot.guards.policy import promises
from bot.guards.sources import Evidence
from bot.guards.wordlists import load_patterns, matcher
from bot.shop.models import Buyer, Shop
from bot.text.normalize import normalize


# Every word list (with its allow list) and pattern file the checks below reach.
MATCHERS: tuple[tuple[str, str | None], ...] = (
    ("ad_law", "ad_law_allow"), ("off_platform", None), ("link_words", None), ("prompt_leak", None),
    ("policy_promise", None), ("policy_hedge", None), ("policy_outcome", None), ("policy_forever", None),
    ("policy_free", None), ("policy_quality", None), ("policy_guarantee", None),
)
PATTERNS = ("link_patterns", "policy_promise_patterns")


def prepare(shop: Shop) -> None:
    """Compile every word list and pattern of the guards, and index ``shop``'s buyers' data,
    now rather than in the first reply checked (tens of milliseconds): a start calls it, so
    the first buyer after a start is answered as fast as the next."""
    for name, allow in MATCHERS:
        # With the call sites' own arguments: ``matcher(name)`` and ``matcher(name, None)``
        # would be two cache entries.
        if allow:
            matcher(name, allow)
        else:
            matcher(name)
    for name in PATTERNS:
        load_patterns(name)
    leak_index(shop)


def check_reply(
    text: str,
    facts: Mapping[str, Any] | None,
    shop: Shop,
    *,
    buyer: Buyer | str | None = None,
    check_numbers: bool = True,
    secrets: Sequence[str] = (),
    known_texts: Iterable[str] = (),
) -> list[Flag]:
    """Every guard flag raised by ``text``; an empty list means the reply may be sent.

    ``facts`` are the structured facts the reply was drafted from: every number in the reply
    must appear in the shop's part of them (never in what the buyer said) unless
    ``check_numbers`` is false — flow replies state order data and pass ``facts={}`` with
    ``check_numbers=False``. Links and times the facts state are the shop's own. ``buyer`` is
    whose conversation it is: only *other* buyers' data is a leak, and ``known_texts`` (what
    the buyer typed) may be said back without counting as one — "没有查到订单 8001" answers
    the buyer's own words. ``secrets`` are texts that must never be echoed (the system prompt).
    """
    norm = normalize(text)
    flat = norm.replace(" ", "")
    evidence = Evidence(facts)
    flags: list[Flag] = []
    terms = matcher("ad_law", "ad_law_allow").find(flat)
    if terms:
        flags.append(Flag(AD_LAW, "、".join(terms)))
    terms = matcher("off_platform").find(flat, skip_negated=True)
    if terms:
        flags.append(Flag(OFF_PLATFORM, "、".join(terms)))
    found = links_and_contacts(norm, evidence, shop)
    if found:
        flags.append(Flag(LINK_OR_CONTACT, "、".join(found)))
    found = promises(flat, shop, evidence)
    if found:
        flags.append(Flag(POLICY_PROMISE, "、".join(found)))
    if check_numbers:
        bad = unsupported_numbers(norm, evidence)
        if bad:
            flags.append(Flag(UNSUPPORTED_NUMBER, "、".join(bad)))
    buyer_id = buyer.id if isinstance(buyer, Buyer) else buyer
    leaked = other_buyers_data(flat, shop, buyer_id)
    typed = normalize(" ".join(known_texts)).replace(" ", "")
    if leaked and typed:
        # Repeating what the buyer typed (an order id they asked about) discloses nothing.
        leaked = [v for v in leaked if v not in typed]
    if leaked:
        flags.append(Flag(DATA_LEAK, f"{len(leaked)}处他人信息"))
    terms = matcher("prompt_leak").find(flat)
    if terms or echoes_secret(flat, secrets):
        flags.append(Flag(PROMPT_LEAK, "、".join(terms) or "复述了系统提示"))
    return flags
