"""The ``workbench_actions`` table: every staff action with who, when and what came of it.

A row is written *before* the order changes (status ``pending``, with the plan), so a retry
of the same request key after a crash finishes that very change instead of judging the new
state afresh; then it becomes ``done`` or ``refused``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Engine, Integer, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Base, UtcDateTime
from bot.workbench.actions import ActionDetail, ActionOutcome

actions_table = Table(
    "workbench_actions",
    Base.metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("request_key", String(255), nullable=True, unique=True),
    Column("action", String(32), nullable=False, index=True),
    Column("tid", String(128), nullable=False, index=True),
    Column("target", String(128), nullable=True, index=True),
    Column("buyer_id", String(128), nullable=True),
    Column("staff", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),  # pending | done | refused
    Column("message", Text, nullable=False),
    Column("request", JSON, nullable=False),
    Column("plan", JSON, nullable=True),  # what a pending row is about to do
    Column("detail", JSON, nullable=False),
)


class KeyTaken(Exception):
    """Another request with the same request key was recorded first."""


class ActionLog:
    def __init__(self, engine: Engine, *, tz: Any) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("ActionLog needs a sqlalchemy Engine")
        self._engine = engine
        self._tz = tz
        Base.metadata.create_all(engine, tables=[actions_table])

    def by_key(self, request_key: str) -> tuple[ActionOutcome, dict[str, Any], dict[str, Any] | None] | None:
        """The recorded outcome, request and plan of ``request_key`` (None when unseen)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(actions_table).where(actions_table.c.request_key == request_key)
            ).first()
        return (self._outcome(row), row.request, row.plan) if row is not None else None

    def begin(self, outcome: ActionOutcome, request: dict[str, Any], plan: dict[str, Any] | None) -> None:
        """Record a pending (or at once refused) action; :class:`KeyTaken` on a used key."""
        row = {
            "id": outcome.id, "request_key": outcome.request_key, "action": outcome.action,
            "tid": outcome.tid, "target": outcome.target, "buyer_id": outcome.buyer_id,
            "staff": outcome.staff, "at": outcome.at, "status": "pending" if plan else outcome.status,
            "message": outcome.message, "request": request, "plan": plan,
            "detail": outcome.detail.model_dump(mode="json"),
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(actions_table).values(**row))
        except IntegrityError as exc:
            raise KeyTaken from exc

    def finish(self, outcome: ActionOutcome) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(actions_table)
                .where(actions_table.c.id == outcome.id)
                .values(status=outcome.status, message=outcome.message,
                        detail=outcome.detail.model_dump(mode="json"), plan=None)
            )

    def list(self, *, tid: str | None = None, status: str | None = None, limit: int = 200) -> list[ActionOutcome]:
        """Newest first."""
        t = actions_table.c
        stmt = select(actions_table).order_by(t.n.desc()).limit(limit)
        if tid is not None:
            stmt = stmt.where(t.tid == tid)
        if status is not None:
            stmt = stmt.where(t.status == status)
        with self._engine.connect() as conn:
            return [self._outcome(r) for r in conn.execute(stmt).all()]

    def done_since(self, since: datetime) -> list[ActionOutcome]:
        """Done actions at or after ``since``, in the order they happened."""
        t = actions_table.c
        stmt = select(actions_table).where(t.status == "done", t.at >= since).order_by(t.n)
        with self._engine.connect() as conn:
            return [self._outcome(r) for r in conn.execute(stmt).all()]

    def received(self, tids: list[str] | None = None) -> set[tuple[str, str]]:
        """(tid, refund id) of the records whose goods the shop has confirmed back."""
        t = actions_table.c
        stmt = select(t.tid, t.target).where(t.action == "return.received", t.status == "done")
        if tids is not None:
            stmt = stmt.where(t.tid.in_(tids))
        with self._engine.connect() as conn:
            return {(str(r.tid), str(r.target)) for r in conn.execute(stmt).all()}

    def _outcome(self, row: Any) -> ActionOutcome:
        return ActionOutcome(
            id=row.id, action=row.action, tid=row.tid, target=row.target, buyer_id=row.buyer_id,
            status="refused" if row.status == "refused" else "done", message=row.message,
            staff=row.staff, at=row.at.astimezone(self._tz), request_key=row.request_key,
            detail=ActionDetail.model_validate(row.detail),
        )
