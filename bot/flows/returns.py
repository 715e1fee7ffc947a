"""Returns (退货退款): no-reason within ``return_window_days`` for products that allow it,
quality problems within ``quality_window_days``; both counted from ``signed_at``."""

from __future__ import annotations

from bot.flows import policy, views
from bot.flows.aftersale import free_items, left_out_note, new_refund_id, refusal_for_items
from bot.flows.common import ask_yes_no, closed, focus, not_selected, offer_human
from bot.flows.selection import select_items, select_order
from bot.flows.state import DialogueState, Pending
from bot.flows.step import FlowContext, Step
from bot.router.router import ParsedTurn
from bot.shop.models import Order

NO_REASON = "七天无理由退货"


def not_returnable_status(ctx: FlowContext, state: DialogueState, order: Order, intent: str, fine: str | None, what: str) -> Step | None:
    """The refusal for an order that is not signed for yet (or closed); None when signed."""
    if policy.is_signed(order):
        return None
    if order.status == "WAIT_BUYER_PAY":
        return Step(ctx.t.render("return_unpaid", tid=order.tid), intent, state, fine)
    if order.status == "WAIT_SELLER_SEND_GOODS":
        return Step(ctx.t.render("not_shipped_yet", tid=order.tid, what=what), intent, state, fine)
    if order.status == "TRADE_CLOSED":
        return closed(ctx, state, order, intent, fine)
    step = Step(ctx.t.render("not_signed_yet", tid=order.tid, what=what), intent, state, fine)
    return offer_human(ctx, step, order.tid, f"订单 {order.tid} 未签收，买家想{what}")


def window_refusal(ctx: FlowContext, state: DialogueState, order: Order, days: int, what: str, intent: str, fine: str | None) -> Step:
    signed = policy.signed_at(order)
    end = policy.deadline(order, days)
    assert signed is not None and end is not None
    reply = ctx.t.render("window_passed", tid=order.tid, signed=views.when(signed, ctx.shop.tz),
                         days=days, what=what, deadline=views.when(end, ctx.shop.tz))
    step = Step(reply, intent, state, fine)
    return offer_human(ctx, step, order.tid, f"订单 {order.tid} 超过{what}期限，买家仍想办理")


def return_flow(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, intent: str = "return") -> Step:
    fine = turn.fine_intent if turn.fine_intent not in (None, "choose_order") else intent
    sel = select_order(ctx, state, turn, "return")
    if sel.order is None:
        return not_selected(ctx, state, turn, sel, intent, fine or intent)
    order = sel.order
    if order.status == "WAIT_SELLER_SEND_GOODS" and intent == "return":
        # Nothing to send back yet: a return before shipping is a refund of those items,
        # proposed at once (it still waits for the buyer's yes), and the turn is that refund.
        from bot.flows.cancel import cancel_or_refund

        return cancel_or_refund(ctx, state, turn, "refund")
    state = focus(state, order.tid, order.items[0].product).model_copy(update={"pending": None})
    refused = not_returnable_status(ctx, state, order, intent, fine, "退货")
    if refused is not None:
        return refused
    wanted = select_items(order, turn)
    free = free_items(order, wanted)
    if not free:
        return refusal_for_items(ctx, state, order, wanted, intent, fine)
    pol = ctx.shop.info.policy
    quality = turn.slots.reason_kind == "quality"
    if quality:
        if not policy.within(order, pol.quality_window_days, ctx.now):
            return window_refusal(ctx, state, order, pol.quality_window_days, "质量问题退货", intent, fine)
        reason = f"质量问题：{turn.text.strip()[:60]}"
    else:
        excluded = policy.no_reason_allowed(ctx.shop, order, free)
        if excluded:
            step = Step(ctx.t.render("no_reason_excluded", title="、".join(excluded), quality_days=pol.quality_window_days), intent, state, fine)
            return offer_human(ctx, step, order.tid, f"订单 {order.tid} 商品不支持7天无理由，买家想退货")
        if not policy.within(order, pol.return_window_days, ctx.now):
            return window_refusal(ctx, state, order, pol.return_window_days, NO_REASON, intent, fine)
        reason = NO_REASON + (f"（{turn.slots.reason}）" if turn.slots.reason else "")
    amount = views.items_amount(order, free)
    extra = (ctx.t.render("return_photo_hint") if quality else "") + left_out_note(ctx, order, wanted, free)
    reply = ctx.t.render("confirm_return", tid=order.tid, items=views.items_text(ctx.shop, order, free), amount=amount,
                         reason=reason, extra=extra)
    pending = Pending(id=ctx.ids.new_id("act"), kind="return", intent=intent, tid=order.tid, oids=free, amount=amount,
                      refund_id=new_refund_id(ctx, order), reason=reason, reason_kind="quality" if quality else "no_reason",
                      summary=f"订单 {order.tid} 退货退款 {amount} 元（{reason}）")
    return ask_yes_no(Step(reply, intent, state, fine, cards=[views.order_card(ctx.shop, order)]), pending)
