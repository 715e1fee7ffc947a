"""The buyer's answer to a 回访: the first message after it that gives a 1–5 rating.

A rating of 1 or 2 opens a ticket for the shop's staff with what the buyer wrote. Answers
are stored in ``outreach_ratings`` (one per follow-up), so a restart neither loses nor
repeats one; the ticket carries an idempotency key of its follow-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, Integer, String, Table, Text, insert, select
from sqlalchemy.exc import IntegrityError

from bot.conversations.sql import SqlConversationStore
from bot.ids import IdProvider
from bot.orders.backend import Ticket
from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox
from bot.storage.db import Base, UtcDateTime
from bot.text.normalize import normalize

LOW = 2  # this rating or lower opens a ticket
ANSWER_WINDOW = timedelta(days=7)  # later messages are not read as an answer to the 回访

ratings_table = Table(
    "outreach_ratings",
    Base.metadata,
    Column("follow_up_id", String(64), primary_key=True),
    Column("buyer_id", String(128), nullable=False, index=True),
    Column("tid", String(128), nullable=True),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("ticket_id", String(128), nullable=True),
)

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_ALONE = re.compile(r"^\s*([1-5])\s*(?:分|星|颗星)?\s*[。.!！~～]*\s*$")
_SCORED = re.compile(r"(?<![0-9])([1-5一二两三四五])\s*(?:分|星|颗星)")


def parse_rating(text: str) -> int | None:
    """``"2分，衣服起球了"`` → 2; ``"五星"`` → 5; ``"4"`` → 4; anything else → None."""
    flat = normalize(text)
    m = _ALONE.match(flat) or _SCORED.search(flat)
    if m is None:
        return None
    token = m.group(1)
    return int(token) if token.isdigit() else _NUMERALS[token]


@dataclass(frozen=True)
class FollowUpAnswer:
    follow_up_id: str
    buyer_id: str
    tid: str | None
    rating: int
    text: str
    at: datetime
    ticket_id: str | None  # the ticket a low rating opened


class RatingReplies:
    name = "outreach.ratings"

    def __init__(self, engine: Engine, outbox: Outbox, conversations: SqlConversationStore,
                 orders: SqlOrderBackend, ids: IdProvider) -> None:
        self._engine = engine
        self._outbox = outbox
        self._conversations = conversations
        self._orders = orders
        self._ids = ids
        Base.metadata.create_all(engine, tables=[ratings_table])

    def run_due(self, now: datetime) -> int:
        answered = self._answered()
        done = 0
        for sent in self._outbox.messages(kind="follow_up", status="sent"):
            if sent.id in answered or sent.conversation_id is None or sent.sent_at is None:
                continue
            if now - sent.sent_at > ANSWER_WINDOW + timedelta(days=1):
                continue
            answer = self._answer(sent.conversation_id, sent.id, sent.sent_at)
            if answer is None:
                continue
            rating, text, message_id, at = answer
            ticket_id = None
            if rating <= LOW:
                ticket = Ticket(
                    id=self._ids.new_id("T"), tid=sent.tid, buyer=sent.buyer_id, kind="low_rating",
                    note=f"回访评分 {rating} 分：{text}", created=now,
                )
                ticket_id = self._orders.add_ticket(ticket, key=f"low-rating:{sent.id}").id
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(ratings_table).values(
                        follow_up_id=sent.id, buyer_id=sent.buyer_id, tid=sent.tid, rating=rating,
                        text=text, message_id=message_id, at=at, ticket_id=ticket_id,
                    ))
            except IntegrityError:  # answered by a concurrent run
                continue
            done += 1
        return done

    def ratings(self) -> list[FollowUpAnswer]:
        """Every answer to a 回访, in the order they were read."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(ratings_table).order_by(ratings_table.c.at)).all()
        return [FollowUpAnswer(follow_up_id=r.follow_up_id, buyer_id=r.buyer_id, tid=r.tid, rating=r.rating,
                               text=r.text, at=r.at, ticket_id=r.ticket_id) for r in rows]

    def _answered(self) -> set[str]:
        with self._engine.connect() as conn:
            return {str(v) for v in conn.execute(select(ratings_table.c.follow_up_id)).scalars()}

    def _answer(self, conversation_id: str, message_id: str, sent_at: datetime) -> tuple[int, str, str, datetime] | None:
        messages = self._conversations.messages(conversation_id)
        after = False
        for m in messages:
            if m.id == message_id:
                after = True
                continue
            if not after or m.role != "buyer" or m.created - sent_at > ANSWER_WINDOW:
                continue
            rating = parse_rating(m.text)
            if rating is not None:
                return rating, m.text, m.id, m.created
        return None
