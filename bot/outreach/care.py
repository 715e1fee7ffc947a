"""Care: a birthday greeting, only to buyers who agreed to marketing (``marketing_opt_in``)
and gave a ``birthday`` (``MM-DD``), on that day in the shop's timezone, once a year."""

from __future__ import annotations

import calendar
from datetime import datetime

from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox, Outgoing
from bot.outreach.texts import OutreachTexts
from bot.outreach.window import day_start
from bot.shop.models import Buyer, Shop


class BirthdayCare:
    name = "outreach.care"

    def __init__(self, shop: Shop, orders: SqlOrderBackend, outbox: Outbox, texts: OutreachTexts) -> None:
        self._shop = shop
        self._orders = orders
        self._outbox = outbox
        self._texts = texts
        self._enabled = shop.info.outreach.care.birthday

    def run_due(self, now: datetime) -> int:
        if not self._enabled:
            return 0
        local = now.astimezone(self._shop.tz)
        stored = 0
        for buyer in self._orders.buyers():
            if not (buyer.marketing_opt_in and buyer.birthday) or not _is_birthday(buyer, local):
                continue
            key = f"birthday:{buyer.id}:{local.year}"
            if self._outbox.has(key):
                continue
            text = self._texts.render("care_birthday", buyer=buyer.id)
            message = Outgoing(dedupe_key=key, buyer_id=buyer.id, kind="care",
                               text=text, not_before=day_start(now, self._shop.tz))
            stored += self._outbox.enqueue(message, now)
        return stored


def _is_birthday(buyer: Buyer, local: datetime) -> bool:
    assert buyer.birthday
    month, day = (int(p) for p in buyer.birthday.split("-"))
    if (month, day) == (2, 29) and not calendar.isleap(local.year):
        day = 28  # a 29 February birthday is kept on the 28th in other years
    return (local.month, local.day) == (month, day)
