"""The guards on what an agent is about to send: the same checks a drafted reply passes,
against the facts the suggestion was drafted from and the conversation's buyer, and one more
for what people write and models rarely do: a gift or offer the shop does not have
(:mod:`bot.suggestions.offers`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.guards import Flag, check_reply
from bot.shop.models import Shop
from bot.suggestions.offers import unsupported_offers

if TYPE_CHECKING:
    from bot.suggestions.service import Suggestion


class ReplyGuard(Protocol):
    def __call__(self, text: str, suggestion: Suggestion) -> list[Flag]:
        """Every guard flag ``text`` raises as the answer to ``suggestion``."""
        ...


class ShopReplyGuard:
    """:func:`bot.guards.check_reply` for the shop; ``buyer_of`` names a conversation's buyer,
    whose own data (an order id they typed) is no leak."""

    def __init__(self, shop: Shop, buyer_of: Callable[[str], str | None]) -> None:
        self.shop = shop
        self.buyer_of = buyer_of

    def __call__(self, text: str, suggestion: Suggestion) -> list[Flag]:
        question = suggestion.facts.get("question")
        flags = check_reply(
            text,
            suggestion.facts,
            self.shop,
            buyer=self.buyer_of(suggestion.conversation_id),
            known_texts=[question] if isinstance(question, str) else [],
        )
        return flags + unsupported_offers(text, self.shop, suggestion.facts)


def check_agent_text(shop: Shop, text: str, buyer_id: str) -> list[Flag]:
    """The guards on a message an agent writes to the buyer directly (during a take-over).

    Numbers are not checked against facts: an agent quotes what the console shows them. Every
    other guard applies (广告法, off-platform contact and links, promises beyond policy,
    another buyer's data, gifts the shop does not give)."""
    return check_reply(text, {}, shop, buyer=buyer_id, check_numbers=False) + unsupported_offers(text, shop)
