"""The one entry point of the guards: every check on one reply, pure and fast (well under 1 ms)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.guards.flag import (
    AD_LAW,
    DATA_LEAK,
    OFF_PLATFORM,
    POLICY_PROMISE,
    PROMPT_LEAK,
    UNSUPPORTED_NUMBER,
    Flag,
)
from bot.guards.leaks import echoes_secret, other_buyers_data
from bot.guards.numbers import allowed_numbers, unsupported
from bot.guards.policy import promises
from bot.guards.wordlists import matcher
from bot.shop.models import Buyer, Shop
from bot.text.normalize import normalize


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

    ``facts`` are the structured facts the reply was drafted from: every number in the
    reply must appear there (or in ``known_texts``, e.g. the buyer's own question) unless
    ``check_numbers`` is false — flow replies state order data and pass ``facts={}`` with
    ``check_numbers=False``. ``buyer`` is whose conversation it is: only *other* buyers'
    data is a leak. ``secrets`` are texts that must never be echoed (the system prompt).
    """
    norm = normalize(text)
    flat = norm.replace(" ", "")
    known_texts = list(known_texts)
    flags: list[Flag] = []
    terms = matcher("ad_law", "ad_law_allow").find(flat)
    if terms:
        flags.append(Flag(AD_LAW, "、".join(terms)))
    terms = matcher("off_platform").find(flat, skip_negated=True)
    if terms:
        flags.append(Flag(OFF_PLATFORM, "、".join(terms)))
    found = promises(flat, shop, facts)
    if found:
        flags.append(Flag(POLICY_PROMISE, "、".join(found)))
    if check_numbers:
        bad = unsupported(text, allowed_numbers(facts, known_texts))
        if bad:
            flags.append(Flag(UNSUPPORTED_NUMBER, "、".join(bad)))
    buyer_id = buyer.id if isinstance(buyer, Buyer) else buyer
    leaked = other_buyers_data(flat, shop, buyer_id)
    if leaked and known_texts:
        # Repeating what the buyer typed (an order id they asked about) discloses nothing.
        typed = normalize(" ".join(known_texts)).replace(" ", "")
        leaked = [v for v in leaked if v not in typed]
    if leaked:
        flags.append(Flag(DATA_LEAK, f"{len(leaked)}处他人信息"))
    terms = matcher("prompt_leak").find(flat)
    if terms or echoes_secret(flat, secrets):
        flags.append(Flag(PROMPT_LEAK, "、".join(terms) or "复述了系统提示"))
    return flags
