"""Which of the buyer's orders (and which items) a turn is about.

Order ids in the text come first; then the pending list the buyer is answering; then the
order in focus when it fits; then the buyer's orders narrowed by what the flow can act on,
by status words (没付款, 没发货, 收到) and by the products mentioned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.flows import policy
from bot.flows.state import DialogueState
from bot.flows.step import FlowContext
from bot.router.router import ParsedTurn
from bot.shop.models import Order


@dataclass
class Selection:
    order: Order | None = None
    candidates: list[Order] = field(default_factory=list)
    unknown_tid: str | None = None  # named but not the buyer's (or not existing)


Relevant = Callable[[Order], bool]

RELEVANT: dict[str, Relevant] = {
    "order_status": lambda o: True,
    "logistics": lambda o: o.status in ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS"),
    "cancel_order": lambda o: o.status in ("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"),
    "refund": lambda o: o.status == "WAIT_SELLER_SEND_GOODS",
    "modify_address": lambda o: o.status in ("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"),
    "return": lambda o: policy.is_signed(o),
    "exchange": lambda o: policy.is_signed(o),
    "refund_progress": lambda o: bool(o.refunds),
}


def _hint_ok(order: Order, hint: str | None) -> bool:
    if hint is None:
        return True
    if hint == "SIGNED":
        return policy.is_signed(order)
    if hint == "NOT_SIGNED":
        return order.status in ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS") and not policy.is_signed(order)
    return order.status == hint


def _has_product(order: Order, product_ids: list[str]) -> bool:
    return any(i.product in product_ids for i in order.items)


def select_order(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, flow: str) -> Selection:
    slots = turn.slots
    if slots.tids:
        for tid in slots.tids:
            order = ctx.order(tid) or next(
                (o for o in ctx.orders if o.shipping and o.shipping.tracking_no == tid), None
            )
            if order is not None:
                return Selection(order=order)
        return Selection(unknown_tid=slots.tids[0])
    pending = state.pending
    if pending and pending.kind == "choose_order" and slots.ordinal and pending.options:
        idx = slots.ordinal - 1 if slots.ordinal > 0 else len(pending.options) - 1
        if 0 <= idx < len(pending.options):
            order = ctx.order(pending.options[idx])
            if order is not None:
                return Selection(order=order)
    relevant = RELEVANT.get(flow, lambda o: True)
    pool = ctx.orders
    if pending and pending.kind == "choose_order" and pending.options and slots.product_ids:
        # Naming a product answers "which of these orders?": look among those offered.
        offered = [o for o in ctx.orders if o.tid in pending.options and _has_product(o, slots.product_ids)]
        if offered:
            pool = offered
    hinted = [o for o in pool if _hint_ok(o, slots.status_hint)]
    named = [o for o in hinted if not slots.product_ids or _has_product(o, slots.product_ids)]
    if slots.product_ids and not named:
        named = hinted  # a product the buyer never bought does not narrow anything
    focus = ctx.order(state.focus_tid)
    if focus is not None and focus in named and (slots.pronoun or relevant(focus) or len(named) == 1):
        return Selection(order=focus)
    fitting = [o for o in named if relevant(o)] or named
    if len(fitting) == 1:
        return Selection(order=fitting[0])
    return Selection(candidates=fitting)


def select_items(order: Order, turn: ParsedTurn) -> list[str]:
    """Items of ``order`` the buyer named (by product or SKU); all items when none named."""
    slots = turn.slots
    kept = set(slots.kept_product_ids)
    named = [
        i.oid
        for i in order.items
        if i.product not in kept
        and (i.sku in slots.sku_ids and len(slots.sku_ids) < 3 or i.product in slots.product_ids)
    ]
    if not named and kept:
        named = [i.oid for i in order.items if i.product not in kept]
    return named or [i.oid for i in order.items]
