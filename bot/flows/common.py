"""Pieces several flows share: asking which order, unknown ids, offering a human."""

from __future__ import annotations

from decimal import Decimal

from bot.flows import views
from bot.flows.selection import Selection
from bot.flows.state import DialogueState, Pending
from bot.flows.step import FlowContext, Step
from bot.money import fmt
from bot.router.router import ParsedTurn
from bot.shop.models import Order

YES_NO = ["确认", "不用了"]
HINT_TEXT = {"WAIT_BUYER_PAY": "待付款", "WAIT_SELLER_SEND_GOODS": "待发货", "SIGNED": "已签收"}
MAX_LISTED = 6


def focus(state: DialogueState, tid: str | None, product: str | None = None) -> DialogueState:
    update: dict[str, object] = {"focus_tid": tid}
    if product:
        update["focus_product"] = product
    return state.model_copy(update=update)


def order_lines(ctx: FlowContext, tids: list[str]) -> str:
    lines = []
    for tid in tids:
        o = ctx.order(tid)
        if o is not None:
            lines.append(
                ctx.t.render(
                    "order_line",
                    tid=o.tid,
                    status=views.status_text(o),
                    items=views.items_text(ctx.shop, o),
                    amount=fmt(o.total_paid),
                )
            )
    return "\n".join(lines)


def not_selected(
    ctx: FlowContext, state: DialogueState, turn: ParsedTurn, sel: Selection, intent: str, fine: str
) -> Step:
    """The reply when no single order was chosen: unknown id, none at all, or which one."""
    state = state.model_copy(update={"pending": None})
    if sel.unknown_tid is not None:
        return Step(ctx.t.render("tid_unknown", tid=sel.unknown_tid), intent, state, fine)
    if not ctx.orders:
        return Step(ctx.t.render("no_orders"), intent, state, fine)
    if not sel.candidates:
        what = HINT_TEXT.get(turn.slots.status_hint or "", "符合条件")
        return Step(ctx.t.render("no_matching_orders", what=what), intent, state, fine)
    tids = [o.tid for o in sel.candidates[:MAX_LISTED]]
    pending = Pending(
        id=ctx.ids.new_id("q"),
        kind="choose_order",
        intent=intent,
        fine=fine,
        options=tids,
        reason=turn.slots.reason,
        reason_kind=turn.slots.reason_kind,
        address=_address(turn),
        summary=turn.text[:200],
    )
    return Step(
        ctx.t.render("choose_order", lines=order_lines(ctx, tids)),
        intent,
        state.model_copy(update={"pending": pending}),
        fine,
        cards=[views.orders_card(ctx.shop, sel.candidates[:MAX_LISTED])],
        quick_replies=tids,
    )


def _address(turn: ParsedTurn) -> dict[str, str] | None:
    addr = turn.slots.address
    if addr is None:
        return None
    return {k: v for k, v in addr.model_dump().items() if v}


def offer_human(ctx: FlowContext, step: Step, tid: str | None, why: str) -> Step:
    """Append nothing to the text (templates already ask); wait for a yes to hand off."""
    pending = Pending(
        id=ctx.ids.new_id("q"), kind="handoff_offer", intent=step.intent, tid=tid, summary=why
    )
    step.state = step.state.model_copy(update={"pending": pending})
    step.quick_replies = ["转人工", "不用了"]
    return step


def ask_yes_no(step: Step, pending: Pending) -> Step:
    step.state = step.state.model_copy(update={"pending": pending})
    step.quick_replies = list(YES_NO)
    return step


def closed(ctx: FlowContext, state: DialogueState, order: Order, intent: str, fine: str | None) -> Step:
    """A closed order changes no more; when its money already went back, say so and how much."""
    back = [r for r in order.refunds if r.status == "SUCCESS" and r.type != "EXCHANGE"]
    if back:
        amount = fmt(sum((r.amount for r in back), Decimal(0)))
        text = ctx.t.render("closed_refunded", tid=order.tid, amount=amount)
    else:
        text = ctx.t.render("closed_no_change", tid=order.tid)
    return Step(text, intent, state, fine, action="order.query")
