"""询单转化: an inquiry is a conversation with a pre-sales question; it converts when the
same buyer creates an order within the window after the first pre-sales message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.reports.activity import Activity, ConversationRecord, OrderRecord
from bot.reports.definitions import Definitions


@dataclass(frozen=True)
class Inquiry:
    conversation_id: str
    buyer_id: str
    asked_at: datetime  # the first pre-sales buyer message
    intent: str
    order: OrderRecord | None  # the first order created within the window, if any

    @property
    def converted(self) -> bool:
        return self.order is not None

    @property
    def day(self) -> date:
        return self.asked_at.date()


def inquiry_of(conv: ConversationRecord, activity: Activity, definitions: Definitions) -> Inquiry | None:
    turn = next((t for t in conv.turns if t.intent in definitions.presales_intents), None)
    if turn is None:
        return None
    message = conv.message_of(turn)
    asked = message.created if message is not None else turn.created
    deadline = asked + timedelta(hours=definitions.conversion_window_hours)
    placed = sorted(
        (o for o in activity.orders if o.buyer_id == conv.buyer_id and asked <= o.created <= deadline),
        key=lambda o: o.created,
    )
    return Inquiry(conv.id, conv.buyer_id, asked, turn.intent, placed[0] if placed else None)


def inquiries(activity: Activity, definitions: Definitions) -> list[Inquiry]:
    return [i for c in activity.conversations if (i := inquiry_of(c, activity, definitions)) is not None]
