"""The ``OrderBackend`` seam: what the flows may read and change about orders.

Orders use the ``orders.yaml`` schema (:class:`bot.shop.models.Order`). Every state change
takes an idempotency ``key``: a change retried with the same key returns the first result
and changes nothing more. Policy (what is allowed) lives in the flows, not here; the
backend checks that the order exists, keeps the refund ledger's invariants
(:mod:`bot.orders.ledger`: one open after-sale per item, none after a refund, never more
back than was paid) whatever the conversations ask, and applies the change in one
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from bot.shop.models import Address, Buyer, Order, Refund, RefundStatus, Shipping


class Ticket(BaseModel):
    """A task for the shop's staff, e.g. a shipping-urge (催发货) ticket."""

    id: str
    no: int | None = None  # the short number buyers and staff read out (工单 5)
    tid: str | None = None
    buyer: str
    kind: Literal["urge_shipping", "handoff", "complaint", "low_rating", "other"]
    note: str
    created: datetime
    status: Literal["open", "done"] = "open"
    closed_at: datetime | None = None
    closed_note: str | None = None  # what the staff member who closed it wrote


class OrdersExport(BaseModel):
    buyers: list[Buyer]
    orders: list[Order]
    tickets: list[Ticket] = Field(default_factory=list)


class OrderBackend(Protocol):
    def reset(self) -> None:
        """Drop every change and re-seed from the shop's ``orders.yaml``."""

    def buyer(self, buyer_id: str) -> Buyer | None: ...

    def buyers(self) -> list[Buyer]: ...

    def order(self, tid: str) -> Order | None: ...

    def orders_of(self, buyer_id: str) -> list[Order]:
        """The buyer's orders, newest first."""

    def export(self) -> OrdersExport: ...

    def cancel_order(self, tid: str, *, key: str) -> Order:
        """WAIT_BUYER_PAY → TRADE_CLOSED."""

    def add_refund(self, tid: str, refund: Refund, *, close_order: bool, key: str) -> Order:
        """Append an after-sale record; ``close_order`` also sets TRADE_CLOSED.

        :class:`~bot.errors.Conflict` when the record would break the refund ledger.
        """

    def update_address(self, tid: str, address: Address, *, key: str) -> Order: ...

    def add_ticket(self, ticket: Ticket, *, key: str) -> Ticket: ...

    def next_number(self, kind: str) -> int:
        """The next short number a person can read out for a new record of ``kind``."""
        ...

    def tickets(self, tid: str | None = None) -> list[Ticket]: ...

    def ship_order(self, tid: str, shipping: Shipping, *, key: str) -> Order:
        """WAIT_SELLER_SEND_GOODS → WAIT_BUYER_CONFIRM_GOODS with ``shipping`` set."""

    def move_refund(
        self, tid: str, refund_id: str, *, expect: frozenset[str], to: RefundStatus, key: str
    ) -> Order:
        """Move an after-sale record from one of the ``expect`` statuses to ``to``, keeping
        the refund ledger: money that goes back settles the item, a refusal frees it."""

    def close_ticket(self, ticket_id: str, note: str, at: datetime, *, key: str) -> Ticket:
        """An open ticket → done, with the closing note."""
