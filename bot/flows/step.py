"""What a flow step returns, and the read-only context it works from.

A step takes the dialogue state and the parsed turn and returns a :class:`Step`: the reply,
the effects to apply through the order backend (each with its idempotency key) and the new
state. Steps never call the backend, the clock or an id generator themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from bot.flows.state import DialogueState
from bot.flows.templates import FlowTemplates
from bot.ids import IdProvider, NumberProvider
from bot.orders.backend import OrderBackend, Ticket
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


class BuyerRecords:
    """A buyer's profile, orders and open tickets as of one turn, read from the order backend
    the first time something asks for them: a product question reads none, an order flow
    reads each once however many steps look."""

    def __init__(self, backend: OrderBackend, buyer_id: str) -> None:
        self._backend = backend
        self._buyer_id = buyer_id

    @cached_property
    def buyer(self) -> Buyer | None:
        return self._backend.buyer(self._buyer_id)

    @cached_property
    def orders(self) -> list[Order]:
        """The buyer's own orders, newest first."""
        return self._backend.orders_of(self._buyer_id)

    @cached_property
    def shipping_tickets(self) -> dict[str, list[Ticket]]:
        """tid -> the tickets already open for each order still waiting to ship."""
        return {o.tid: self._backend.tickets(o.tid) for o in self.orders if o.status == "WAIT_SELLER_SEND_GOODS"}


@dataclass(frozen=True)
class FlowContext:
    """Everything a step may read: the shop, the buyer's orders as of this turn, the time."""

    shop: Shop
    buyer_id: str
    records: BuyerRecords
    now: datetime
    ids: IdProvider
    numbers: NumberProvider  # short numbers of new after-sales and tickets
    t: FlowTemplates
    linker: ProductLinker | None
    reads_tickets: bool = False  # a parcel question: the open tickets of orders waiting to ship

    @property
    def buyer(self) -> Buyer | None:
        return self.records.buyer

    @property
    def orders(self) -> list[Order]:
        """The buyer's own orders, newest first."""
        return self.records.orders

    @property
    def tickets(self) -> dict[str, list[Ticket]]:
        """tid -> tickets already open for it (parcel questions only)."""
        return self.records.shipping_tickets if self.reads_tickets else {}

    def order(self, tid: str | None) -> Order | None:
        """The buyer's order ``tid``; another buyer's order is as unknown as a missing one."""
        return next((o for o in self.orders if o.tid == tid), None) if tid else None
