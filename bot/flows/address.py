"""Address change: before shipment (per ``policy.address_change``), after a summary and a yes."""

from __future__ import annotations

from bot.flows import policy, views
from bot.flows.common import ask_yes_no, closed, focus, not_selected, offer_human
from bot.flows.selection import Selection, select_order
from bot.flows.state import DialogueState, Pending
from bot.flows.step import FlowContext, Step
from bot.router.router import ParsedTurn
from bot.shop.models import Address


def address_flow(ctx: FlowContext, state: DialogueState, turn: ParsedTurn) -> Step:
    intent, fine = "modify_address", turn.fine_intent
    pending = state.pending
    if pending and pending.kind == "ask_address" and turn.fine_intent == "address_given":
        sel = Selection(order=ctx.order(pending.tid))
    else:
        sel = select_order(ctx, state, turn, intent)
    if sel.order is None:
        return not_selected(ctx, state, turn, sel, intent, "modify_address")
    order = sel.order
    state = focus(state, order.tid, order.items[0].product).model_copy(update={"pending": None})
    if order.status == "TRADE_CLOSED":
        return closed(ctx, state, order, intent, fine)
    if not policy.address_changeable(order, ctx.shop):
        if order.shipping is not None:
            step = Step(ctx.t.render("address_shipped", tid=order.tid), intent, state, fine)
        else:
            step = Step(ctx.t.render("address_not_allowed", tid=order.tid, status=views.status_text(order)), intent, state, fine)
        return offer_human(ctx, step, order.tid, f"订单 {order.tid} 买家想改地址，但当前{views.status_text(order)}")
    addr = turn.slots.address
    ask = Pending(id=ctx.ids.new_id("q"), kind="ask_address", intent=intent, tid=order.tid)
    if addr is None or not (addr.region or addr.detail or addr.name or addr.phone):
        step = Step(ctx.t.render("address_ask", tid=order.tid), intent, state, fine)
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    if (addr.region or addr.detail) and not addr.complete:
        step = Step(ctx.t.render("address_unparsed"), intent, state, "address_unparsed")
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    old = order.address
    new = Address(
        name=addr.name or old.name,
        phone=addr.phone or old.phone,
        region=addr.region or old.region,
        detail=addr.detail or old.detail,
    )
    reply = ctx.t.render("confirm_address", tid=order.tid, items=views.items_text(ctx.shop, order),
                         name=new.name, phone=new.phone, region=new.region, detail=new.detail)
    change = Pending(id=ctx.ids.new_id("act"), kind="address", intent=intent, tid=order.tid,
                     address=new.model_dump(), summary=f"订单 {order.tid} 改地址为 {new.region} {new.detail}")
    return ask_yes_no(Step(reply, intent, state, fine), change)
