"""回访: ``after_days_signed`` days after a parcel was signed for, ask the buyer for a 1–5
rating and any problem. Orders with an after-sale in progress or refunded are left alone:
those buyers are already talking to the shop about them."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows.views import items_text, when
from bot.orders import ledger
from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox, Outgoing
from bot.outreach.texts import OutreachTexts
from bot.outreach.window import STALE_AFTER, fresh
from bot.shop.models import Order, Shop


class FollowUps:
    name = "outreach.follow_up"

    def __init__(self, shop: Shop, orders: SqlOrderBackend, outbox: Outbox, texts: OutreachTexts) -> None:
        self._shop = shop
        self._orders = orders
        self._outbox = outbox
        self._texts = texts
        self._after = timedelta(days=shop.info.outreach.follow_up.after_days_signed)

    def run_due(self, now: datetime) -> int:
        stored = 0
        window = (now - self._after - STALE_AFTER, now - self._after)
        for order in self._orders.orders_in(["WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"], signed_between=window):
            signed = order.shipping.signed_at if order.shipping else None
            if signed is None or not fresh(signed + self._after, now) or not self._settled(order):
                continue
            if self._outbox.has(f"follow:{order.tid}"):
                continue
            text = self._texts.render(
                "follow_up", buyer=order.buyer, signed=when(signed, self._shop.tz),
                items=items_text(self._shop, order), bot=self._shop.info.persona.name,
            )
            message = Outgoing(dedupe_key=f"follow:{order.tid}", buyer_id=order.buyer, kind="follow_up",
                               text=text, not_before=signed + self._after, tid=order.tid)
            stored += self._outbox.enqueue(message, now)
        return stored

    @staticmethod
    def _settled(order: Order) -> bool:
        if order.status not in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"):
            return False
        if any(r.is_open for r in order.refunds):
            return False
        return not any(b.refunded_by for b in ledger.ledger_of(order).values())
