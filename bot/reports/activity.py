"""What happened in a report window, read from the stores in a few bulk queries.

Conversations that started in the window come with all their messages, turns and drafts;
orders come whole (an inquiry converts by an order created after it, even past the
window's end). Every time is in the shop's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Select, false, inspect, select

from bot.conversations.sql import conversations_table, messages_table, turns_table
from bot.orders.backend import OrderBackend
from bot.reports.window import ReportWindow
from bot.suggestions.sql import SuggestionRow


MessageKind = Literal["buyer", "answer", "holding", "unprompted", "system"]


@dataclass(frozen=True)
class ChatMessage:
    seq: int
    role: str  # buyer, bot, agent, system
    text: str
    author: str | None  # the agent who sent it (an agent message, or a draft an agent sent)
    created: datetime
    turn_id: str | None
    kind: MessageKind
    """``answer``: the bot's reply to a turn, or anything an agent sent; ``holding``: a bot
    message of no turn (the reply policy's holding message or handoff note); ``unprompted``:
    delivered from the outbox (催付, notices, 回访, care)."""

    @property
    def agent(self) -> str | None:
        """The agent who sent this message (their own, or a draft they accepted or edited)."""
        if self.role == "agent":
            return self.author or "?"
        if self.role == "bot" and self.author and self.author != "bot":
            return self.author
        return None


def _kind(role: str, author: str | None, turn_id: str | None, unprompted: bool) -> MessageKind:
    if role == "buyer":
        return "buyer"
    if role == "agent" or (role == "bot" and author and author != "bot"):
        return "answer"
    if role == "bot":
        if unprompted:
            return "unprompted"
        return "answer" if turn_id else "holding"
    return "system"


@dataclass(frozen=True)
class TurnRecord:
    turn_id: str
    intent: str
    action: str | None
    handoff: bool
    created: datetime
    buyer_message_id: str | None
    status: str  # the conversation's status after the turn; ``agent``: the bot stayed quiet


@dataclass(frozen=True)
class DraftRecord:
    id: str
    turn_id: str
    intent: str
    draft: str
    status: str  # pending, accepted, edited, rejected, auto_sent
    final_text: str | None
    decided_by: str | None
    decided_at: datetime | None
    reject_reason: str | None
    flags: tuple[str, ...]
    fallback_reason: str | None
    created: datetime

    @property
    def timed_out(self) -> bool:
        """Sent as drafted by the reply policy because no agent decided it in time."""
        return self.status == "auto_sent" and self.decided_at is not None and self.decided_at > self.created


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    buyer_id: str
    status: str
    agent: str | None
    rating: int | None
    created: datetime
    messages: tuple[ChatMessage, ...]
    turns: tuple[TurnRecord, ...]
    drafts: tuple[DraftRecord, ...]
    message_ids: dict[str, int]  # message id → seq, to find a turn's buyer message

    @property
    def day(self) -> date:
        return self.created.date()

    @cached_property
    def agents(self) -> frozenset[str]:
        """Agents who sent something in this conversation."""
        return frozenset(a for m in self.messages if (a := m.agent) is not None)

    def message_of(self, turn: TurnRecord) -> ChatMessage | None:
        seq = self.message_ids.get(turn.buyer_message_id or "")
        return next((m for m in self.messages if m.seq == seq), None) if seq is not None else None


@dataclass(frozen=True)
class OrderRecord:
    tid: str
    buyer_id: str
    created: datetime


@dataclass(frozen=True)
class Activity:
    tz: tzinfo
    window: ReportWindow
    conversations: tuple[ConversationRecord, ...]
    orders: tuple[OrderRecord, ...]

    def conversation(self, conversation_id: str) -> ConversationRecord | None:
        return next((c for c in self.conversations if c.id == conversation_id), None)


def load_activity(
    engine: Engine,
    orders: OrderBackend,
    tz: tzinfo,
    window: ReportWindow,
    *,
    conversation_ids: Collection[str] | None = None,
) -> Activity:
    """``conversation_ids`` narrows the window to those conversations."""
    c, m, t, s = conversations_table.c, messages_table.c, turns_table.c, SuggestionRow.__table__.c
    chosen = select(c.id)
    if window.backwards:
        chosen = chosen.where(false())
    if conversation_ids is not None:
        chosen = chosen.where(c.id.in_(list(conversation_ids)))
    if window.since is not None:
        chosen = chosen.where(c.created >= window.since)
    if window.until is not None:
        chosen = chosen.where(c.created < window.until)
    with engine.connect() as conn:
        convs = conn.execute(select(conversations_table).where(c.id.in_(chosen)).order_by(c.created, c.n)).all()
        messages = conn.execute(select(messages_table).where(m.conversation_id.in_(chosen)).order_by(m.seq)).all()
        turns = conn.execute(
            select(t.conversation_id, t.turn_id, t.intent, t.action, t.handoff, t.created, t.buyer_message_id, t.status)
            .where(t.conversation_id.in_(chosen))
            .order_by(t.n)
        ).all()
        drafts = conn.execute(
            select(SuggestionRow.__table__).where(s.conversation_id.in_(chosen)).order_by(s.created, s.id)
        ).all()
        unprompted = _outbox_messages(conn, chosen)

    by_conv: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    ids: dict[str, dict[str, int]] = defaultdict(dict)
    for r in messages:
        by_conv[r.conversation_id]["messages"].append(
            ChatMessage(
                r.seq, r.role, r.text, r.author, r.created.astimezone(tz), r.turn_id,
                _kind(r.role, r.author, r.turn_id, r.id in unprompted),
            )
        )
        ids[r.conversation_id][r.id] = r.seq
    for r in turns:
        by_conv[r.conversation_id]["turns"].append(
            TurnRecord(
                r.turn_id, r.intent, r.action, bool(r.handoff), r.created.astimezone(tz), r.buyer_message_id, r.status
            )
        )
    for r in drafts:
        by_conv[r.conversation_id]["drafts"].append(
            DraftRecord(
                id=r.id, turn_id=r.turn_id, intent=r.intent, draft=r.draft, status=r.status,
                final_text=r.final_text, decided_by=r.decided_by,
                decided_at=datetime.fromisoformat(r.decided_at).astimezone(tz) if r.decided_at else None,
                reject_reason=r.reject_reason,
                flags=tuple(r.flags or ()), fallback_reason=r.fallback_reason,
                created=datetime.fromisoformat(r.created).astimezone(tz),
            )
        )
    # A conversation counts once the buyer wrote in it; one the shop opened with a message
    # the buyer never answered is outreach, not service.
    records = tuple(
        ConversationRecord(
            id=r.id, buyer_id=r.buyer_id, status=r.status, agent=r.agent, rating=r.rating,
            created=r.created.astimezone(tz),
            messages=tuple(by_conv[r.id]["messages"]), turns=tuple(by_conv[r.id]["turns"]),
            drafts=tuple(by_conv[r.id]["drafts"]), message_ids=ids[r.id],
        )
        for r in convs
        if any(m.role == "buyer" for m in by_conv[r.id]["messages"])
    )
    placed = tuple(
        OrderRecord(o.tid, o.buyer, o.created.astimezone(tz)) for o in orders.export().orders
    )
    return Activity(tz=tz, window=window, conversations=records, orders=placed)


def _outbox_messages(conn: Connection, chosen: Select[Any]) -> set[str]:
    """Ids of the chat messages delivered from the outbox: delivery stores each under its
    outbox message's id (:mod:`bot.outreach.delivery`)."""
    from bot.outreach.outbox import outbox_table

    if not inspect(conn).has_table(outbox_table.name):
        return set()
    o = outbox_table.c
    return {str(i) for i in conn.execute(select(o.id).where(o.conversation_id.in_(chosen))).scalars()}
