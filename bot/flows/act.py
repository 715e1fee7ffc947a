"""Carrying out a confirmed change: the pending summary the buyer said yes to becomes effects.

The idempotency key is ``buyer:pending-id``: a retried yes on the same state repeats the same
key, so the backend applies the change once. The order is read afresh for every turn, so a
yes given after another conversation took the items (refunded them, or opened an after-sale)
is refused here with the reason; a race lost between this read and the change itself is the
backend's :class:`~bot.errors.Conflict`, answered by the dialogue manager.
"""

from __future__ import annotations

from decimal import Decimal

from bot.flows import aftersale, policy, views
from bot.flows.state import DialogueState, Pending
from bot.flows.step import AddRefund, CancelOrder, FlowContext, Step, UpdateAddress
from bot.router.router import ParsedTurn
from bot.shop.models import Address, Order, Refund

AFTERSALE_KINDS = frozenset({"refund", "return", "exchange"})
ACTIONS = {
    "cancel": "order.cancel",
    "refund": "refund.create",
    "address": "address.update",
    "return": "return.create",
    "exchange": "exchange.create",
}


def _still_allowed(ctx: FlowContext, order: Order, p: Pending) -> bool:
    """The order may have changed since the summary; re-check the precondition."""
    if p.kind == "cancel":
        return order.status == "WAIT_BUYER_PAY"
    if p.kind == "refund":
        return order.status == "WAIT_SELLER_SEND_GOODS"
    if p.kind == "address":
        return policy.address_changeable(order, ctx.shop)
    return policy.is_signed(order)


def _already_done(order: Order, p: Pending) -> bool:
    """This very change was applied before (a retried yes): replay it under the same key."""
    if p.kind == "cancel":
        return order.status == "TRADE_CLOSED"
    if p.kind == "address":
        return p.address is not None and order.address.model_dump() == p.address
    return any(r.id == p.refund_id for r in order.refunds)


def _closes(ctx: FlowContext, order: Order, p: Pending) -> bool:
    """A refund-only closes the order when it leaves no item unrefunded, as of now: another
    conversation may have refunded the other items since the summary."""
    if p.kind != "refund":
        return p.close_order
    return ctx.shop.info.policy.auto_refund_unshipped and all(
        i.oid in p.oids or policy.refunded(order, i.oid) for i in order.items
    )


def act(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, p: Pending) -> Step:
    cleared = state.model_copy(update={"pending": None})
    order = ctx.order(p.tid)
    if order is not None and p.kind in AFTERSALE_KINDS and not _already_done(order, p):
        taken = aftersale.refused_at_confirm(ctx, cleared, order, p.oids, aftersale.WHAT_OF_INTENT[p.kind])
        if taken is not None:
            return taken
    if order is None or not (_still_allowed(ctx, order, p) or _already_done(order, p)):
        reply = ctx.t.render("action_failed", why="订单状态已经变化")
        return Step(reply, "confirm", cleared, "confirm")
    key = f"{ctx.buyer_id}:{p.id}"
    action = ACTIONS[p.kind]
    if p.kind == "cancel":
        reply = ctx.t.render("done_cancel_unpaid", tid=order.tid)
        return Step(reply, "confirm", cleared, "confirm", action=action, effects=[CancelOrder(order.tid, key)])
    if p.kind == "address":
        assert p.address is not None
        address = Address.model_validate(p.address)
        reply = ctx.t.render("done_address", tid=order.tid, region=address.region, detail=address.detail)
        return Step(reply, "confirm", cleared, "confirm", action=action, effects=[UpdateAddress(order.tid, address, key)])
    assert p.refund_id is not None and p.amount is not None
    pol = ctx.shop.info.policy
    if p.kind == "refund":
        rtype, status = "REFUND_ONLY", ("SUCCESS" if pol.auto_refund_unshipped else "WAIT_SELLER_AGREE")
        name = "done_refund_auto" if pol.auto_refund_unshipped else "done_refund_review"
        reply = ctx.t.render(name, tid=order.tid, refund_id=p.refund_id, amount=p.amount)
    elif p.kind == "return":
        rtype, status = "RETURN_REFUND", "WAIT_SELLER_AGREE"
        name = "done_return_quality" if p.reason_kind == "quality" else "done_return"
        reply = ctx.t.render(name, tid=order.tid, refund_id=p.refund_id, amount=p.amount)
    else:
        rtype, status = "EXCHANGE", "WAIT_SELLER_AGREE"
        assert p.exchange_sku is not None
        reply = ctx.t.render("done_exchange", tid=order.tid, refund_id=p.refund_id,
                             target=views.sku_text(ctx.shop, p.exchange_sku))
    refund = Refund(
        id=p.refund_id, no=ctx.numbers.next_number("refund"), type=rtype, status=status, items=p.oids, amount=Decimal(p.amount),
        reason=p.reason, created=ctx.now, exchange_sku=p.exchange_sku,
    )
    effect = AddRefund(order.tid, refund, close_order=_closes(ctx, order, p), key=key)
    return Step(reply, "confirm", cleared, "confirm", action=action, effects=[effect])
