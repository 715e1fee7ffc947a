"""The ``sugg_suggestions`` table on the shared ``Base``, and the queue's count of pending drafts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Engine, Index, Integer, String, Text, func, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base


class SuggestionRow(Base):
    __tablename__ = "sugg_suggestions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    turn_id: Mapped[str] = mapped_column(String(64))
    intent: Mapped[str] = mapped_column(String(64))
    draft: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    flag_details: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drafter: Mapped[str] = mapped_column(String(16))
    fallback_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[str | None] = mapped_column(String(40), nullable=True)  # ISO 8601 with offset
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    edit_distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[str] = mapped_column(String(40))  # ISO 8601 with offset; sorts as text
    # An agent who sent a text that failed the guards, having seen the flags: who, when, which.
    override_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    override_flags: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # The reply policy's timers (UTC ISO 8601, so they compare as text); cleared once done:
    # a holding message when nothing answered the buyer by ``hold_at``, the draft (or a
    # handoff note) by ``due_at``.
    hold_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    due_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(16), nullable=True)  # turn | copilot | redraft

    __table_args__ = (
        Index("sugg_by_status", "status", "created"),
        Index("sugg_by_conversation", "conversation_id", "created"),
        Index("sugg_by_hold", "hold_at"),
        Index("sugg_by_due", "due_at"),
        # Per turn: whether a conversation has a draft pending, and its holding timers to
        # settle — a seek into that conversation's few rows, not all of its drafts.
        Index("sugg_by_conversation_status", "conversation_id", "status", "created"),
        Index("sugg_by_conversation_hold", "conversation_id", "hold_at"),
        # Per tick: the timers due among the waiting and rejected drafts — a seek into the
        # open timers, not every rejected draft the shop ever had.
        Index("sugg_timer_hold", "status", "hold_at"),
        Index("sugg_timer_due", "status", "due_at"),
    )


def create_tables(engine: Engine) -> None:
    """Create the suggestion table alone (``bot.storage.db.create_all`` makes every table),
    and add the columns a table made by an earlier version lacks (all of them nullable)."""
    Base.metadata.create_all(engine, tables=[SuggestionRow.__table__])  # type: ignore[list-item]
    name = SuggestionRow.__tablename__
    present = {c["name"] for c in inspect(engine).get_columns(name)}
    for column in SuggestionRow.__table__.columns:
        if column.name in present:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {column.name} {kind}"))
        except (OperationalError, ProgrammingError):
            # another process added it first
            if column.name not in {c["name"] for c in inspect(engine).get_columns(name)}:
                raise


def pending_counts(engine: Engine, conversation_ids: Sequence[str]) -> dict[str, int]:
    """How many drafts wait for an agent in each of ``conversation_ids`` (the rows of one
    queue page): one grouped read by the index on conversation and status, however many
    drafts the shop has pending elsewhere. Conversations with none are left out."""
    if not conversation_ids:
        return {}
    s = SuggestionRow
    stmt = (
        select(s.conversation_id, func.count())
        .where(s.conversation_id.in_(list(conversation_ids)), s.status == "pending")
        .group_by(s.conversation_id)
    )
    with engine.connect() as conn:
        return {cid: int(n) for cid, n in conn.execute(stmt).all()}
