"""The outbox: every unprompted message is stored here before it is delivered.

A message is keyed by what it is about (``pay:7001:1``, ``notice:wa3``): enqueueing the same
thing twice — a job run twice, a restart, two processes — stores it once. Its id and the id
of the chat message it becomes are derived from that key, so delivering it twice stores one
chat message: the second insert is refused by the message table itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Base, UtcDateTime

Kind = Literal["payment_reminder", "notice", "follow_up", "care"]
Status = Literal["pending", "sent", "dropped"]

outbox_table = Table(
    "outreach_outbox",
    Base.metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("buyer_id", String(128), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("tid", String(128), nullable=True),
    Column("text", Text, nullable=False),
    Column("capped", Boolean, nullable=False),  # counts towards the per-buyer daily cap
    Column("created", UtcDateTime, nullable=False),
    Column("not_before", UtcDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("conversation_id", String(128), nullable=True),
    Column("reason", Text, nullable=True),  # why a message was dropped
)


def message_id_of(dedupe_key: str) -> str:
    return "o" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Outgoing:
    """A message a source wants sent."""

    dedupe_key: str
    buyer_id: str
    kind: Kind
    text: str
    not_before: datetime
    tid: str | None = None
    capped: bool = True


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    dedupe_key: str
    buyer_id: str
    kind: Kind
    tid: str | None
    text: str
    capped: bool
    created: datetime
    not_before: datetime
    status: Status
    sent_at: datetime | None
    conversation_id: str | None
    reason: str | None


class Outbox:
    def __init__(self, engine: Engine, *, tz: tzinfo) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("Outbox needs a sqlalchemy Engine")
        self._engine = engine
        self._tz = tz
        Base.metadata.create_all(engine, tables=[outbox_table])

    def enqueue(self, message: Outgoing, now: datetime) -> bool:
        """Store ``message`` unless its key is already stored; True when it was new."""
        if not message.text.strip():
            raise ValueError("an unprompted message needs text")
        if self.has(message.dedupe_key):
            return False
        row = {
            "id": message_id_of(message.dedupe_key), "dedupe_key": message.dedupe_key,
            "buyer_id": message.buyer_id, "kind": message.kind, "tid": message.tid,
            "text": message.text, "capped": message.capped, "created": now,
            "not_before": message.not_before, "status": "pending",
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(outbox_table).values(**row))
        except IntegrityError:  # the same key, stored by a concurrent run
            return False
        return True

    def has(self, dedupe_key: str) -> bool:
        """The message is stored already (whatever became of it): sources skip writing it again."""
        c = outbox_table.c
        with self._engine.connect() as conn:
            return conn.execute(select(c.n).where(c.dedupe_key == dedupe_key)).first() is not None

    def get(self, dedupe_key: str) -> OutboxMessage | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(outbox_table).where(outbox_table.c.dedupe_key == dedupe_key)).first()
        return self._message(row) if row is not None else None

    def due(self, now: datetime, *, dedupe_key: str | None = None) -> list[OutboxMessage]:
        """Pending messages whose time has come, oldest first."""
        c = outbox_table.c
        stmt = select(outbox_table).where(c.status == "pending", c.not_before <= now).order_by(c.not_before, c.n)
        if dedupe_key is not None:
            stmt = stmt.where(c.dedupe_key == dedupe_key)
        with self._engine.connect() as conn:
            return [self._message(r) for r in conn.execute(stmt).all()]

    def mark_sent(self, message_id: str, conversation_id: str, now: datetime) -> bool:
        """pending → sent; False when it was no longer pending."""
        return self._move(message_id, sent_at=now, conversation_id=conversation_id, status="sent")

    def drop(self, message_id: str, reason: str) -> bool:
        """pending → dropped (no longer wanted, e.g. the order was paid meanwhile)."""
        return self._move(message_id, status="dropped", reason=reason)

    def sent_capped_since(self, buyer_id: str, since: datetime) -> int:
        c = outbox_table.c
        with self._engine.connect() as conn:
            return int(conn.execute(
                select(func.count()).select_from(outbox_table).where(
                    c.buyer_id == buyer_id, c.status == "sent", c.capped.is_(True), c.sent_at >= since
                )
            ).scalar_one())

    def messages(self, *, buyer_id: str | None = None, status: Status | None = None,
                 kind: Kind | None = None) -> list[OutboxMessage]:
        """In the order they were stored (sent ones: in the order they were sent)."""
        c = outbox_table.c
        stmt = select(outbox_table)
        if buyer_id is not None:
            stmt = stmt.where(c.buyer_id == buyer_id)
        if status is not None:
            stmt = stmt.where(c.status == status)
        if kind is not None:
            stmt = stmt.where(c.kind == kind)
        stmt = stmt.order_by(c.sent_at, c.n) if status == "sent" else stmt.order_by(c.n)
        with self._engine.connect() as conn:
            return [self._message(r) for r in conn.execute(stmt).all()]

    def _move(self, message_id: str, **values: Any) -> bool:
        c = outbox_table.c
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(outbox_table).where(and_(c.id == message_id, c.status == "pending")).values(**values)
            )
        return bool(moved.rowcount)

    def _local(self, value: datetime | None) -> datetime | None:
        return value.astimezone(self._tz) if value is not None else None

    def _message(self, row: Any) -> OutboxMessage:
        return OutboxMessage(
            id=row.id, dedupe_key=row.dedupe_key, buyer_id=row.buyer_id, kind=row.kind, tid=row.tid,
            text=row.text, capped=bool(row.capped), created=self._local(row.created),  # type: ignore[arg-type]
            not_before=self._local(row.not_before),  # type: ignore[arg-type]
            status=row.status, sent_at=self._local(row.sent_at), conversation_id=row.conversation_id,
            reason=row.reason,
        )
