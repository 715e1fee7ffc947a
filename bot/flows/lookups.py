"""Look-up flows: order status, logistics (with the shipping-urge ticket), refund progress."""

from __future__ import annotations

from bot.flows import policy, views
from bot.flows.common import focus, not_selected, order_lines
from bot.flows.selection import select_order
from bot.flows.state import DialogueState
from bot.flows.step import AddTicket, FlowContext, Step
from bot.money import fmt
from bot.orders.backend import Ticket
from bot.router.router import ParsedTurn
from bot.shop.models import Order


def _refund_lines(ctx: FlowContext, order: Order) -> list[str]:
    lines = []
    for r in order.refunds:
        if r.type == "EXCHANGE" and r.exchange_sku:
            lines.append(
                ctx.t.render(
                    "exchange_line",
                    refund_id=views.refund_ref(r),
                    target=views.sku_text(ctx.shop, r.exchange_sku),
                    refund_status=views.REFUND_STATUS_TEXT[r.status],
                )
            )
        else:
            lines.append(
                ctx.t.render(
                    "refund_line",
                    refund_id=views.refund_ref(r),
                    refund_type=views.REFUND_TYPE_TEXT[r.type],
                    amount=fmt(r.amount),
                    refund_status=views.REFUND_STATUS_TEXT[r.status],
                )
            )
    return lines


def describe(ctx: FlowContext, order: Order) -> str:
    """One paragraph on an order's state, quoting its exact facts."""
    tz = ctx.shop.tz
    items = views.items_text(ctx.shop, order)
    amount = fmt(order.total_paid)
    ship = order.shipping
    if order.status == "WAIT_BUYER_PAY":
        text = ctx.t.render(
            "status_unpaid", tid=order.tid, items=items, amount=amount,
            ship_hours=ctx.shop.info.policy.ship_within_hours,
        )
    elif order.status == "WAIT_SELLER_SEND_GOODS":
        promised = policy.promised_ship_time(order, ctx.shop.info.policy)
        text = ctx.t.render(
            "status_unshipped", tid=order.tid, items=items, amount=amount,
            promised=views.when(promised, tz) if promised else "",
        )
    elif order.status == "TRADE_CLOSED":
        text = ctx.t.render("status_closed", tid=order.tid, items=items)
    elif order.status == "TRADE_FINISHED":
        text = ctx.t.render("status_finished", tid=order.tid, items=items, amount=amount)
    elif ship is not None and ship.signed_at is not None:
        text = ctx.t.render(
            "status_signed", tid=order.tid, items=items, carrier=ship.company,
            tracking_no=ship.tracking_no, signed=views.when(ship.signed_at, tz),
        )
    else:
        assert ship is not None  # WAIT_BUYER_CONFIRM_GOODS always has shipping
        latest = ship.traces[-1] if ship.traces else None
        trace = f"{views.when(latest.time, tz)} {latest.desc}" if latest else "暂无"
        text = ctx.t.render(
            "status_shipped", tid=order.tid, items=items, carrier=ship.company,
            tracking_no=ship.tracking_no, trace=trace,
        )
    lines = _refund_lines(ctx, order)
    return text + ("\n" + "\n".join(lines) if lines else "")


def order_status(ctx: FlowContext, state: DialogueState, turn: ParsedTurn) -> Step:
    sel = select_order(ctx, state, turn, "order_status")
    if sel.order is None:
        if sel.candidates and sel.unknown_tid is None and not turn.slots.product_ids:
            shown = sel.candidates[:6]
            reply = ctx.t.render("orders_overview", lines=order_lines(ctx, [o.tid for o in shown]))
            return Step(
                reply, "order_status", state.model_copy(update={"pending": None}), "order_list",
                action="order.query", cards=[views.orders_card(ctx.shop, shown)],
                quick_replies=[o.tid for o in shown],
            )
        return not_selected(ctx, state, turn, sel, "order_status", "order_status")
    order = sel.order
    cards = [views.order_card(ctx.shop, order)]
    parcel = views.parcel_card(ctx.shop, order)
    if parcel:
        cards.append(parcel)
    return Step(
        describe(ctx, order), "order_status", focus(state, order.tid, order.items[0].product),
        turn.fine_intent, action="order.query", cards=cards,
    )


def logistics(ctx: FlowContext, state: DialogueState, turn: ParsedTurn) -> Step:
    sel = select_order(ctx, state, turn, "logistics")
    if sel.order is None:
        return not_selected(ctx, state, turn, sel, "logistics", turn.fine_intent)
    order = sel.order
    state = focus(state, order.tid, order.items[0].product)
    tz = ctx.shop.tz
    pol = ctx.shop.info.policy
    ship = order.shipping
    fine = turn.fine_intent
    if order.status == "WAIT_BUYER_PAY":
        reply = ctx.t.render("unpaid_no_parcel", tid=order.tid, ship_hours=pol.ship_within_hours)
        return Step(reply, "logistics", state, fine, action="logistics.query")
    if order.status == "WAIT_SELLER_SEND_GOODS":
        promised = policy.promised_ship_time(order, pol)
        assert promised is not None and order.paid_at is not None
        if not policy.shipping_overdue(order, pol, ctx.now):
            reply = ctx.t.render(
                "unshipped_on_time", tid=order.tid, paid=views.when(order.paid_at, tz),
                promised=views.when(promised, tz),
            )
            return Step(reply, "logistics", state, fine, action="logistics.query")
        open_urges = [t for t in ctx.tickets.get(order.tid, []) if t.kind == "urge_shipping" and t.status == "open"]
        if open_urges:
            reply = ctx.t.render(
                "unshipped_overdue_again", tid=order.tid, promised=views.when(promised, tz),
                ticket_id=views.record_ref(open_urges[0].id, open_urges[0].no),
            )
            return Step(reply, "logistics", state, "urge_shipping", action="logistics.query")
        ticket = Ticket(
            id=ctx.ids.new_id("T"), no=ctx.numbers.next_number("ticket"), tid=order.tid,
            buyer=ctx.buyer_id, kind="urge_shipping",
            note=f"订单 {order.tid} 已超过承诺发货时间 {views.when(promised, tz)}，买家催发货",
            created=ctx.now,
        )
        reply = ctx.t.render(
            "unshipped_overdue", tid=order.tid, promised=views.when(promised, tz),
            ticket_id=views.record_ref(ticket.id, ticket.no),
        )
        return Step(
            reply, "logistics", state, "urge_shipping", action="ticket.create",
            effects=[AddTicket(ticket, key=f"urge:{ctx.buyer_id}:{order.tid}:{ticket.id}")],
        )
    if ship is None:
        return Step(ctx.t.render("closed_no_parcel", tid=order.tid), "logistics", state, fine, action="logistics.query")
    cards = [c for c in [views.parcel_card(ctx.shop, order)] if c]
    if ship.signed_at is not None:
        reply = ctx.t.render(
            "parcel_signed", tid=order.tid, carrier=ship.company, tracking_no=ship.tracking_no,
            signed=views.when(ship.signed_at, tz),
        )
    elif ship.traces:
        latest = ship.traces[-1]
        reply = ctx.t.render(
            "parcel_moving", tid=order.tid, carrier=ship.company, tracking_no=ship.tracking_no,
            trace_time=views.when(latest.time, tz), trace=latest.desc,
        )
    else:
        reply = ctx.t.render(
            "parcel_no_trace", tid=order.tid, carrier=ship.company, tracking_no=ship.tracking_no,
            shipped=views.when(ship.shipped_at, tz),
        )
    return Step(reply, "logistics", state, fine, action="logistics.query", cards=cards)


def refund_progress(ctx: FlowContext, state: DialogueState, turn: ParsedTurn) -> Step:
    sel = select_order(ctx, state, turn, "refund_progress")
    if sel.order is None:
        with_refunds = [o for o in ctx.orders if o.refunds]
        if sel.unknown_tid is None and not with_refunds:
            return Step(ctx.t.render("no_refunds_any"), "refund", state, "refund_progress", action="order.query")
        if sel.unknown_tid is None and with_refunds and not turn.slots.tids:
            # Several orders with after-sales: show every record at once.
            lines = [line for o in with_refunds for line in (f"订单 {o.tid}：",) + tuple(_refund_lines(ctx, o))]
            cards = [views.refund_card(ctx.shop, o, r) for o in with_refunds for r in o.refunds]
            return Step(
                ctx.t.render("refund_progress", lines="\n".join(lines)), "refund",
                state.model_copy(update={"pending": None}), "refund_progress",
                action="order.query", cards=cards,
            )
        return not_selected(ctx, state, turn, sel, "refund", "refund_progress")
    order = sel.order
    state = focus(state, order.tid, order.items[0].product)
    if not order.refunds:
        return Step(ctx.t.render("no_refunds", tid=order.tid), "refund", state, "refund_progress", action="order.query")
    lines = [f"订单 {order.tid}："] + _refund_lines(ctx, order)
    return Step(
        ctx.t.render("refund_progress", lines="\n".join(lines)), "refund", state, "refund_progress",
        action="order.query", cards=[views.refund_card(ctx.shop, order, r) for r in order.refunds],
    )
