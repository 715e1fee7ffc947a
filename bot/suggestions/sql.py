"""The ``sugg_suggestions`` table on the shared ``Base``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Engine, Index, Integer, String, Text, inspect, text
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
