"""The refund ledger of an order: per item, what was paid, what went back and what is open.

The shop format's after-sale invariants ("Default policy of the deterministic flows" in
shop-format.md), per order item and across all conversations:

* at most one after-sale (refund only, return or exchange) is open at a time;
* an item whose money went back (a ``SUCCESS`` refund only or return) gets no new after-sale;
* the money refunded (``SUCCESS``) plus the money of the open refund never exceeds ``paid``.

Figures are whole 分 (``int``), so sums are exact and the SQL backend keeps the very same
figures in integer columns under CHECK constraints. A refund naming several items is split
over them in proportion to what each paid (largest remainder first, so the shares add up
to the refund's amount). Exchanges move no money: they only hold the item's open slot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from bot.money import FEN, to_fen

if TYPE_CHECKING:
    from bot.shop.models import Order, Refund

MONEY_TYPES = frozenset({"REFUND_ONLY", "RETURN_REFUND"})

BreachKind = Literal["open", "refunded", "over_paid"]


def fen_of(amount: Decimal) -> int:
    """A yuan amount in whole 分 (rounded half-up first)."""
    return int(to_fen(amount) / FEN)


def yuan_of(fen: int) -> Decimal:
    return (Decimal(fen) * FEN).quantize(FEN)


@dataclass(frozen=True)
class ItemBalance:
    """One order item in the ledger. ``open_refund`` and ``refunded_by`` are refund ids."""

    oid: str
    paid: int
    refunded: int = 0  # 分 that went back through SUCCESS refunds and returns
    open: int = 0  # 分 of the refund or return in progress (0 for an exchange)
    open_refund: str | None = None  # the after-sale in progress on the item
    refunded_by: str | None = None  # the SUCCESS refund or return of the item

    @property
    def free(self) -> bool:
        """No after-sale in progress and not refunded: a new one may start."""
        return self.open_refund is None and self.refunded_by is None

    @property
    def left(self) -> int:
        """分 that may still go back."""
        return self.paid - self.refunded - self.open


@dataclass(frozen=True)
class Breach:
    """Why a refund record may not join the ledger, for one of its items."""

    refund_id: str
    oid: str
    kind: BreachKind
    other: str | None = None  # the after-sale in the way (kinds ``open`` and ``refunded``)
    total: int = 0  # 分 the item's refunds would come to (kind ``over_paid``)
    paid: int = 0

    def __str__(self) -> str:
        if self.kind == "open":
            return (
                f"refund {self.refund_id}: item {self.oid} already has after-sale {self.other} "
                "in progress (one may be open per item at a time)"
            )
        if self.kind == "refunded":
            return (
                f"refund {self.refund_id}: item {self.oid} was already refunded by {self.other} "
                "and cannot get another after-sale"
            )
        return (
            f"refund {self.refund_id}: refunds of item {self.oid} would come to "
            f"{yuan_of(self.total)}, more than its paid {yuan_of(self.paid)}"
        )


def is_money(refund: Refund) -> bool:
    return refund.type in MONEY_TYPES


def holds_item(refund: Refund) -> bool:
    """An open or successful record occupies its items; a refused or closed one does not."""
    return refund.is_open or refund.status == "SUCCESS"


def shares(order: Order, refund: Refund) -> dict[str, int]:
    """The refund's amount in 分 split over its (distinct) items in proportion to ``paid``."""
    oids = list(dict.fromkeys(refund.items))
    if not is_money(refund):
        return {oid: 0 for oid in oids}
    amount = fen_of(refund.amount)
    paid = {oid: fen_of(item.paid) if (item := order.item(oid)) else 0 for oid in oids}
    total = sum(paid.values())
    if total == 0:
        # Nothing was paid for these items: all of the amount lands on the first, over its paid.
        return {oid: (amount if n == 0 else 0) for n, oid in enumerate(oids)}
    out = {oid: amount * paid[oid] // total for oid in oids}
    rest = amount - sum(out.values())
    by_remainder = sorted(oids, key=lambda oid: -(amount * paid[oid] % total))
    for oid in by_remainder[:rest]:
        out[oid] += 1
    return out


def opening(order: Order) -> dict[str, ItemBalance]:
    """Every item of the order with nothing refunded or open."""
    return {i.oid: ItemBalance(oid=i.oid, paid=fen_of(i.paid)) for i in order.items}


def post(
    order: Order, balances: dict[str, ItemBalance], refund: Refund
) -> tuple[dict[str, ItemBalance], list[Breach]]:
    """The balances after ``refund`` is recorded, and what the record breaks (if anything).

    The balances are updated even when the record breaks an invariant, so that a ledger
    with a bad record still tells which items are taken.
    """
    if not holds_item(refund):
        return balances, []
    out = dict(balances)
    breaches: list[Breach] = []
    for oid, share in shares(order, refund).items():
        bal = out.get(oid)
        if bal is None:
            continue  # an unknown item: the order model and the backend refuse it first
        taken = len(breaches)
        if bal.refunded_by is not None:
            breaches.append(Breach(refund.id, oid, "refunded", other=bal.refunded_by))
        elif bal.open_refund is not None:
            breaches.append(Breach(refund.id, oid, "open", other=bal.open_refund))
        if refund.is_open:
            bal = replace(bal, open_refund=refund.id, open=bal.open + share)
        elif is_money(refund):
            bal = replace(bal, refunded_by=refund.id, refunded=bal.refunded + share)
        # An item that was not free is reported as such; the money is then only its echo.
        if len(breaches) == taken and bal.refunded + bal.open > bal.paid:
            breaches.append(
                Breach(refund.id, oid, "over_paid", total=bal.refunded + bal.open, paid=bal.paid)
            )
        out[oid] = bal
    return out, breaches


def ledger_of(order: Order) -> dict[str, ItemBalance]:
    """The balance of every item, from the order's refund records in their order."""
    balances = opening(order)
    for refund in order.refunds:
        balances, _ = post(order, balances, refund)
    return balances


def breaches_of(order: Order) -> list[tuple[int, Breach]]:
    """Every broken invariant of the order's records, with the index of the record."""
    balances = opening(order)
    found: list[tuple[int, Breach]] = []
    for n, refund in enumerate(order.refunds):
        balances, broken = post(order, balances, refund)
        found.extend((n, b) for b in broken)
    return found


def admit(order: Order, refund: Refund) -> list[Breach]:
    """What adding ``refund`` to the order would break; empty when it may be added."""
    _, broken = post(order, ledger_of(order), refund)
    return broken


def blocking(order: Order, oids: Iterable[str]) -> tuple[str, Refund] | None:
    """The first of ``oids`` that may not get a new after-sale, with the record in the way."""
    balances = ledger_of(order)
    for oid in oids:
        bal = balances.get(oid)
        if bal is None or bal.free:
            continue
        rid = bal.refunded_by or bal.open_refund
        refund = next((r for r in order.refunds if r.id == rid), None)
        if refund is not None:
            return oid, refund
    return None
