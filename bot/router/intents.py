"""The canonical intents and actions of the transcript format (transcript-format.md)."""

from __future__ import annotations

CANONICAL_INTENTS: tuple[str, ...] = (
    "greeting",
    "chitchat",
    "product_info",
    "size_advice",
    "stock",
    "price_promotion",
    "recommendation",
    "shipping_policy",
    "payment",
    "order_status",
    "logistics",
    "modify_address",
    "cancel_order",
    "refund",
    "return",
    "exchange",
    "complaint",
    "invoice",
    "human_agent",
    "confirm",
    "deny",
    "other",
)

CANONICAL_ACTIONS: tuple[str, ...] = (
    "order.query",
    "logistics.query",
    "order.cancel",
    "address.update",
    "refund.create",
    "return.create",
    "exchange.create",
    "ticket.create",
    "handoff",
)

# Intents whose reply is drafted from the shop's knowledge (products, rules, promotions).
DRAFTER_INTENTS: frozenset[str] = frozenset(
    {
        "product_info",
        "size_advice",
        "stock",
        "price_promotion",
        "recommendation",
        "shipping_policy",
        "payment",
        "invoice",
    }
)
