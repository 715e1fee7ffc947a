"""What a flow step returns, and the read-only context it works from.

A step takes the dialogue state and the parsed turn and returns a :class:`Step`: the reply,
the effects to apply through the order backend (each with its idempotency key) and the new
state. Steps never call the backend, the clock or an id generator themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.flows.state import DialogueState
from bot.flows.templates import FlowTemplates
from bot.ids import IdProvider, NumberProvider
from bot.orders.backend import Ticket
from bot.router.router import ProductLinker
from bot.shop.models import Address, Buyer, Order, Refund, Shop
from bot.turns import Card


@dataclass(frozen=True)
class CancelOrder:
    tid: str
    key: str


@dataclass(frozen=True)
class AddRefund:
    tid: str
    refund: Refund
    close_order: bool
    key: str


@dataclass(frozen=True)
class UpdateAddress:
    tid: str
    address: Address
    key: str


@dataclass(frozen=True)
class AddTicket:
    ticket: Ticket
    key: str


Effect = CancelOrder | AddRefund | UpdateAddress | AddTicket


@dataclass
class Step:
    reply: str | None
    intent: str
    state: DialogueState
    fine_intent: str | None = None
    action: str | None = None
    effects: list[Effect] = field(default_factory=list)
    handoff: bool = False
    handoff_reason: str | None = None
    cards: list[Card] = field(default_factory=list)
    quick_replies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FlowContext:
    """Everything a step may read: the shop, the buyer's orders as of this turn, the time."""

    shop: Shop
    buyer_id: str
    buyer: Buyer | None
    orders: list[Order]  # the buyer's own orders, newest first
    tickets: dict[str, list[Ticket]]  # tid -> tickets already open for it
    now: datetime
    ids: IdProvider
    numbers: NumberProvider  # short numbers of new after-sales and tickets
    t: FlowTemplates
    linker: ProductLinker | None

    def order(self, tid: str | None) -> Order | None:
        """The buyer's order ``tid``; another buyer's order is as unknown as a missing one."""
        return next((o for o in self.orders if o.tid == tid), None) if tid else None
