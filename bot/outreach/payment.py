"""催付: a reminder for an order still waiting for payment ``after_minutes`` after it was
placed, at most ``max_per_order`` times (the k-th after k × ``after_minutes``). It names the
order as the buyer sees it (when, what, how much) and a coupon the buyer holds for it; once
the order is paid or closed nothing more is sent, and a reminder still waiting (quiet
hours) is dropped at delivery."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows.views import items_text, when
from bot.money import fmt
from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox, Outgoing
from bot.outreach.texts import OutreachTexts
from bot.outreach.window import fresh
from bot.shop.models import Coupon, Order, Shop


class PaymentReminders:
    name = "outreach.payment_reminder"

    def __init__(self, shop: Shop, orders: SqlOrderBackend, outbox: Outbox, texts: OutreachTexts) -> None:
        self._shop = shop
        self._orders = orders
        self._outbox = outbox
        self._texts = texts
        self._cfg = shop.info.outreach.payment_reminder

    def run_due(self, now: datetime) -> int:
        every = timedelta(minutes=self._cfg.after_minutes)
        stored = 0
        for order in self._orders.orders_in(["WAIT_BUYER_PAY"]):
            for k in range(1, self._cfg.max_per_order + 1):
                due = order.created + k * every
                if not fresh(due, now) or self._outbox.has(f"pay:{order.tid}:{k}"):
                    continue
                message = Outgoing(
                    dedupe_key=f"pay:{order.tid}:{k}", buyer_id=order.buyer, kind="payment_reminder",
                    text=self._text(order, now), not_before=due, tid=order.tid,
                )
                stored += self._outbox.enqueue(message, now)
        return stored

    def still_wanted(self, tid: str | None) -> str | None:
        """Why a stored reminder must not go any more (None: it may)."""
        order = self._orders.order(tid) if tid else None
        if order is None or order.status != "WAIT_BUYER_PAY":
            return "订单已付款或已关闭"
        return None

    def _text(self, order: Order, now: datetime) -> str:
        coupon = self._coupon(order, now)
        part = ""
        if coupon is not None:
            part = self._texts.part("payment_coupon", title=coupon.title, ends=when(coupon.end, self._shop.tz))
        return self._texts.render(
            "payment_reminder", buyer=order.buyer, when=when(order.created, self._shop.tz),
            items=items_text(self._shop, order), tid=order.tid, amount=fmt(order.total_paid), coupon=part,
        )

    def _coupon(self, order: Order, now: datetime) -> Coupon | None:
        """The best coupon the buyer holds that is valid now and covers an item of the order."""
        buyer = self._shop.buyers.get(order.buyer)
        if buyer is None or not buyer.coupons:
            return None
        products = [self._shop.products[i.product] for i in order.items if i.product in self._shop.products]
        held = [
            p for p in self._shop.promotions
            if isinstance(p, Coupon) and p.id in buyer.coupons and p.valid_at(now)
            and any(p.scope.covers(prod) for prod in products)
        ]
        return max(held, key=lambda c: c.amount, default=None)
