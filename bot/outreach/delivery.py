"""Delivering stored messages into the buyer's conversation, each exactly once.

A due message waits while the shop's quiet hours hold, and a message of the shop's own
(催付, 回访, care — not the notices a buyer waits for) waits for the next day once the buyer
had ``daily_cap`` of them today. A message that is no longer wanted (the order was paid
meanwhile) is dropped with the reason. Delivery adds a bot message whose id is the outbox
message's own, so a delivery interrupted after the chat message and before the outbox row
was marked finds the message there and only marks it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.conversations.sql import SqlConversationStore
from bot.errors import Conflict
from bot.outreach.outbox import Outbox, OutboxMessage
from bot.outreach.window import QuietHours, day_start
from bot.shop.models import Shop

class Publisher(Protocol):
    def publish(self, kind: str, data: dict[str, Any]) -> None: ...


# kind → why a stored message must not go any more (None: it may)
Relevance = Callable[[OutboxMessage], str | None]


class Delivery:
    name = "outreach.deliver"

    def __init__(self, shop: Shop, outbox: Outbox, conversations: SqlConversationStore, events: Publisher,
                 *, daily_cap: int, relevance: dict[str, Relevance] | None = None) -> None:
        if daily_cap < 0:
            raise ValueError("daily_cap cannot be negative")
        self._shop = shop
        self._outbox = outbox
        self._conversations = conversations
        self._events = events
        self._cap = daily_cap
        self._relevance = dict(relevance or {})
        self.quiet = QuietHours(shop.info.outreach.quiet_hours, shop.tz)

    def run_due(self, now: datetime) -> int:
        return self._deliver(self._outbox.due(now), now)

    def deliver_one(self, dedupe_key: str, now: datetime) -> int:
        """Deliver one stored message now if it may go now (a notice right after the action)."""
        return self._deliver(self._outbox.due(now, dedupe_key=dedupe_key), now)

    def _deliver(self, due: list[OutboxMessage], now: datetime) -> int:
        if self.quiet.holds(now):
            return 0
        sent = 0
        today = day_start(now, self._shop.tz)
        capped: dict[str, int] = {}  # buyer → the shop's own messages sent today
        for message in due:
            if message.capped:
                if message.buyer_id not in capped:
                    capped[message.buyer_id] = self._outbox.sent_capped_since(message.buyer_id, today)
                if capped[message.buyer_id] >= self._cap:
                    continue  # waits for tomorrow
            check = self._relevance.get(message.kind)
            why = check(message) if check is not None else None
            if why is not None:
                self._outbox.drop(message.id, why)
                continue
            done = self._send(message, now)
            sent += done
            if message.capped:
                capped[message.buyer_id] += done
        return sent

    def _conversation(self, message: OutboxMessage, now: datetime) -> str:
        """The buyer's open conversation; without one, a new one named after the message, so
        a delivery retried after a crash finds the same conversation again."""
        latest = self._conversations.latest_for(message.buyer_id)
        if latest is not None and latest.status != "closed":
            return latest.id
        cid = f"c-{message.id}"
        try:
            conv = self._conversations.create(message.buyer_id, now, cid)
        except Conflict:
            return cid
        self._events.publish("status", {"conversation_id": conv.id, "status": conv.status})
        return cid

    def _send(self, message: OutboxMessage, now: datetime) -> int:
        cid = self._conversation(message, now)
        try:
            stored = self._conversations.add_message(cid, "bot", message.text, now, message.id)
        except Conflict:  # delivered before a restart, not yet marked: mark only
            stored = None
        if not self._outbox.mark_sent(message.id, cid, now):
            return 0
        if stored is not None:
            self._events.publish("message", {"conversation_id": cid, "message": stored.model_dump(mode="json")})
        self._events.publish("outreach", {"conversation_id": cid, "buyer_id": message.buyer_id,
                                          "kind": message.kind, "tid": message.tid})
        return 1
