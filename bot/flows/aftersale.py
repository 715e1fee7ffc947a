"""Which items may get a new after-sale, and how the buyer is told when one may not.

One rule for every after-sale flow (refund only, return, exchange) and for the yes that
carries it out: an item with an after-sale in progress, or whose money already went back,
gets no new one (the refund ledger, :mod:`bot.orders.ledger`).
"""

from __future__ import annotations

from bot.flows import views
from bot.flows.state import DialogueState
from bot.flows.step import FlowContext, Step
from bot.money import fmt
from bot.orders import ledger
from bot.shop.models import Order
from bot.turns import Card

# What the buyer asked for, in the words of the refusal ("不能再申请{what}").
WHAT_OF_INTENT = {"cancel_order": "退款", "refund": "退款", "return": "退货", "exchange": "换货"}
WHAT_OF_TYPE = {"REFUND_ONLY": "退款", "RETURN_REFUND": "退货", "EXCHANGE": "换货"}


def new_refund_id(ctx: FlowContext, order: Order) -> str:
    """A refund id from the injected provider that the order does not already use."""
    taken = {r.id for o in ctx.orders for r in o.refunds}
    rid = ctx.ids.new_id("R")
    while rid in taken:
        rid = ctx.ids.new_id("R")
    return rid


def free_items(order: Order, oids: list[str]) -> list[str]:
    """Items that may get a new after-sale: none in progress and not refunded yet."""
    balances = ledger.ledger_of(order)
    return [o for o in oids if o in balances and balances[o].free]


def explain_blocked(ctx: FlowContext, order: Order, oids: list[str], what: str) -> tuple[str, Card] | None:
    """Why the first blocked item of ``oids`` gets no new after-sale, with the record's card."""
    found = ledger.blocking(order, oids)
    if found is None:
        return None
    _, refund = found
    if refund.is_open:
        reply = ctx.t.render(
            "item_refund_open", items=views.items_text(ctx.shop, order, refund.items),
            refund_id=views.refund_ref(refund), refund_type=views.REFUND_TYPE_TEXT[refund.type],
            refund_status=views.REFUND_STATUS_TEXT[refund.status],
        )
    else:
        reply = ctx.t.render(
            "item_refunded", items=views.items_text(ctx.shop, order, refund.items),
            refund_id=views.refund_ref(refund), refund_type=views.REFUND_TYPE_TEXT[refund.type],
            amount=fmt(refund.amount), what=what,
        )
    return reply, views.refund_card(ctx.shop, order, refund)


def refusal_for_items(
    ctx: FlowContext, state: DialogueState, order: Order, oids: list[str], intent: str, fine: str | None
) -> Step:
    """None of the items asked about may get a new after-sale: say which record is in the way."""
    explained = explain_blocked(ctx, order, oids, WHAT_OF_INTENT.get(intent, "售后"))
    if explained is None:
        return Step(ctx.t.render("nothing_refundable", tid=order.tid), intent, state, fine)
    reply, card = explained
    return Step(reply, intent, state, fine, action="order.query", cards=[card])


def left_out_note(ctx: FlowContext, order: Order, wanted: list[str], free: list[str]) -> str:
    """A line naming the items asked about that this after-sale leaves out (empty if none)."""
    left_out = [o for o in wanted if o not in free]
    if not left_out:
        return ""
    return ctx.t.render("items_left_out", items=views.items_text(ctx.shop, order, left_out))


def refused_at_confirm(
    ctx: FlowContext, state: DialogueState, order: Order, oids: list[str], what: str
) -> Step | None:
    """The items of a confirmed after-sale were taken since the summary (another conversation
    got there first): explain, submit nothing. None when every item is still free."""
    explained = explain_blocked(ctx, order, oids, what)
    if explained is None:
        return None
    reply, card = explained
    reply += "\n" + ctx.t.render("not_submitted")
    return Step(reply, "confirm", state, "confirm", cards=[card])
