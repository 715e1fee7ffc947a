"""Cancel and refund-only: close an unpaid order, or refund unshipped items (REFUND_ONLY)."""

from __future__ import annotations

from bot.flows import policy, views
from bot.flows.aftersale import free_items, left_out_note, new_refund_id, refusal_for_items
from bot.flows.common import ask_yes_no, closed, focus, not_selected, offer_human
from bot.flows.selection import select_items, select_order
from bot.flows.state import DialogueState, Pending
from bot.flows.step import FlowContext, Step
from bot.router.router import ParsedTurn


def cancel_or_refund(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, intent: str) -> Step:
    """``intent`` is ``cancel_order`` or ``refund`` (refund only)."""
    fine = turn.fine_intent if turn.fine_intent not in (None, "choose_order") else intent
    sel = select_order(ctx, state, turn, intent)
    if sel.order is None:
        return not_selected(ctx, state, turn, sel, intent, fine or intent)
    order = sel.order
    state = focus(state, order.tid, order.items[0].product).model_copy(update={"pending": None})
    items_all = views.items_text(ctx.shop, order)
    if order.status == "WAIT_BUYER_PAY":
        reply = ctx.t.render("confirm_cancel_unpaid", tid=order.tid, items=items_all, amount=views.items_amount(order, [i.oid for i in order.items]))
        if intent == "refund":
            reply = ctx.t.render("unpaid_no_refund", tid=order.tid) + "\n" + reply
        pending = Pending(id=ctx.ids.new_id("act"), kind="cancel", intent=intent, tid=order.tid,
                          oids=[i.oid for i in order.items], amount=views.items_amount(order, [i.oid for i in order.items]),
                          summary=f"取消未付款订单 {order.tid}")
        return ask_yes_no(Step(reply, intent, state, fine, cards=[views.order_card(ctx.shop, order)]), pending)
    if order.status == "WAIT_SELLER_SEND_GOODS":
        wanted = select_items(order, turn)
        free = free_items(order, wanted)
        if not free:
            return refusal_for_items(ctx, state, order, wanted, intent, fine)
        pol = ctx.shop.info.policy
        remaining = [i.oid for i in order.items if not policy.refunded(order, i.oid) and i.oid not in free]
        close = pol.auto_refund_unshipped and not remaining
        amount = views.items_amount(order, free)
        outcome = ctx.t.render("refund_outcome_auto" if pol.auto_refund_unshipped else "refund_outcome_review")
        if close:
            outcome += ctx.t.render("refund_outcome_close")
        outcome += "\n" + left_out_note(ctx, order, wanted, free)
        reply = ctx.t.render("confirm_refund", tid=order.tid, items=views.items_text(ctx.shop, order, free),
                             amount=amount, outcome=outcome)
        reason = turn.slots.reason or ("取消订单" if intent == "cancel_order" else "未发货仅退款")
        pending = Pending(id=ctx.ids.new_id("act"), kind="refund", intent=intent, tid=order.tid, oids=free,
                          amount=amount, refund_id=new_refund_id(ctx, order), reason=reason, close_order=close,
                          summary=f"订单 {order.tid} 未发货仅退款 {amount} 元")
        return ask_yes_no(Step(reply, intent, state, fine, cards=[views.order_card(ctx.shop, order)]), pending)
    if order.status == "TRADE_CLOSED":
        return closed(ctx, state, order, intent, fine)
    ship = order.shipping
    if policy.shipped_unsigned(order) and ship is not None:
        step = Step(ctx.t.render("shipped_no_cancel", tid=order.tid, carrier=ship.company, tracking_no=ship.tracking_no),
                    intent, state, fine, action="logistics.query", cards=[c for c in [views.parcel_card(ctx.shop, order)] if c])
        return offer_human(ctx, step, order.tid, f"订单 {order.tid} 已发货未签收，买家想{('取消' if intent == 'cancel_order' else '仅退款')}")
    if intent == "refund":
        # Signed goods go back as a return: the return flow applies its windows.
        from bot.flows.returns import return_flow

        return return_flow(ctx, state, turn, intent="refund")
    step = Step(ctx.t.render("signed_no_cancel", tid=order.tid), intent, state, fine)
    return step
