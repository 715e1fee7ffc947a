"""Notices of what the shop's people did: the order or the exchange shipped (carrier and
tracking number), a return agreed (where to send it), a refund succeeded (how much).

Each done workbench action gives at most one notice, keyed by the action: the workbench
hands it over at once (:meth:`Notices.on_action`) and the job finds any the hand-over missed
(a crash between the action and the notice) in the action log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot import yamlfiles
from bot.errors import ConfigError
from bot.flows.views import REFUND_TYPE_TEXT, items_text, sku_text
from bot.money import fmt
from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox, Outgoing
from bot.outreach.texts import OutreachTexts
from bot.outreach.window import STALE_AFTER
from bot.shop.models import Shop
from bot.workbench.actions import ActionOutcome
from bot.workbench.log import ActionLog

_HEADINGS_FILE = Path(__file__).parent / "data" / "return_address.yaml"


def return_address(shop: Shop) -> str | None:
    """Where returns go, from the first rule section headed like a return address."""
    words = yamlfiles.read(_HEADINGS_FILE)["headings"]
    for doc in shop.rules:
        for section in doc.sections:
            if any(w in section.heading for w in words):
                text = re.sub(r"\s+", " ", section.text).strip()
                if text:
                    return text
    return None


class Notices:
    name = "outreach.notices"

    def __init__(self, shop: Shop, orders: SqlOrderBackend, actions: ActionLog, outbox: Outbox,
                 texts: OutreachTexts, deliver_now: Callable[[str, datetime], int]) -> None:
        self._shop = shop
        self._orders = orders
        self._actions = actions
        self._outbox = outbox
        self._texts = texts
        self._deliver_now = deliver_now
        self._address = return_address(shop)
        self._enabled = shop.info.outreach.notices

    def on_action(self, outcome: ActionOutcome) -> None:
        """Store the action's notice and deliver it at once (unless quiet hours hold it)."""
        message = self._notice(outcome)
        if message is not None:
            self._outbox.enqueue(message, outcome.at)
            self._deliver_now(message.dedupe_key, outcome.at)

    def run_due(self, now: datetime) -> int:
        stored = 0
        for outcome in self._actions.done_since(now - STALE_AFTER):
            message = self._notice(outcome)
            if message is not None:
                stored += self._outbox.enqueue(message, now)
        return stored

    def _notice(self, outcome: ActionOutcome) -> Outgoing | None:
        if not self._enabled or not outcome.done or outcome.buyer_id is None:
            return None
        order = self._orders.order(outcome.tid)
        if order is None:
            return None
        d, buyer = outcome.detail, outcome.buyer_id
        refund = next((r for r in order.refunds if r.id == outcome.target), None)
        if outcome.action == "order.ship":
            text = self._texts.render("notice_shipped", buyer=buyer, tid=order.tid, items=items_text(self._shop, order),
                                      carrier=d.carrier, tracking_no=d.tracking_no)
        elif outcome.action == "exchange.ship":
            text = self._texts.render("notice_exchange_shipped", buyer=buyer, tid=order.tid,
                                      item=sku_text(self._shop, d.exchange_sku or ""),
                                      carrier=d.carrier, tracking_no=d.tracking_no)
        elif outcome.action in ("return.agree", "refund.complete") and d.to_status == "SUCCESS":
            text = self._texts.render("notice_refund_success", buyer=buyer, tid=order.tid,
                                      amount=fmt(d.amount) if d.amount is not None else "")
        elif outcome.action == "return.agree" and refund is not None:
            kind = REFUND_TYPE_TEXT[refund.type]
            items = items_text(self._shop, order, list(refund.items))
            text = self._with_address(buyer, order.tid, kind, items) or self._texts.render(
                "notice_return_agreed_ask", buyer=buyer, tid=order.tid, kind=kind, items=items
            )
        else:
            return None
        return Outgoing(dedupe_key=f"notice:{outcome.id}", buyer_id=buyer, kind="notice", text=text,
                        not_before=outcome.at, tid=order.tid, capped=False)

    def _with_address(self, buyer: str, tid: str, kind: str, items: str) -> str | None:
        """The notice quoting the shop's return address; None when the shop has none or the
        quoted text does not pass the reply guards."""
        if not self._address:
            return None
        try:
            return self._texts.render("notice_return_agreed", buyer=buyer, tid=tid, kind=kind,
                                      items=items, address=self._address)
        except ConfigError:
            return None
