"""SQL implementation of :class:`~bot.conversations.store.ConversationStore`.

Three tables: ``conv_conversations`` (status, agent, dialogue state, summary, rating),
``conv_messages`` (numbered per conversation) and ``conv_turns`` (the full ``TurnResult`` as
JSON, plus intent/action/handoff/latency as columns so reports can query them). Every write
is its own committed transaction (a message acknowledged to the buyer survives a restart),
unless it is part of a :func:`~bot.storage.unit.unit_of_work`, which commits with the unit.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timezone, tzinfo
from typing import Any, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    case,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.conversations.paging import Cursor, Page
from bot.conversations.store import Conversation, Message, Role
from bot.errors import Conflict, NotFound, TellCustomer
from bot.storage.db import Base, UtcDateTime, reader
from bot.storage.unit import read, write
from bot.turns import ConversationStatus, TurnResult

_STATUSES: frozenset[str] = frozenset(get_args(ConversationStatus))
_ROLES: frozenset[str] = frozenset(get_args(Role))


conversations_table = Table(
    "conv_conversations",
    Base.metadata,
    # ``n`` orders conversations created at the same instant (a frozen clock does that).
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("buyer_id", String(128), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("agent", String(128), nullable=True),
    Column("state", JSON, nullable=False),
    Column("summary", Text, nullable=True),
    Column("rating", Integer, nullable=True),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("waiting_since", UtcDateTime, nullable=True),
    Column("message_count", Integer, nullable=False, default=0),
    # The number of the buyer's newest message (0: none yet), kept by ``add_message``: what
    # came after it is one index range of ``conv_messages``, however long the conversation.
    Column("last_buyer_seq", Integer, nullable=False, default=0, server_default="0"),
    # The console queue, page by page (see ``SqlConversationStore.page``): the waiting ones
    # by how long they wait, the others by their last change, optionally of one status.
    Index("conv_queue_waiting", "status", "waiting_since", "n"),
    Index("conv_queue_updated", "updated", "n"),
    Index("conv_queue_status_updated", "status", "updated", "n"),
)

messages_table = Table(
    "conv_messages",
    Base.metadata,
    Column("id", String(128), primary_key=True),
    Column(
        "conversation_id",
        String(128),
        ForeignKey("conv_conversations.id"),
        nullable=False,
        index=True,
    ),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(128), nullable=True),
    Column("created", UtcDateTime, nullable=False),
    Column("turn_id", String(128), nullable=True),
    UniqueConstraint("conversation_id", "seq", name="uq_conv_messages_seq"),
)

turns_table = Table(
    "conv_turns",
    Base.metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("turn_id", String(128), nullable=False, unique=True),
    Column(
        "conversation_id",
        String(128),
        ForeignKey("conv_conversations.id"),
        nullable=False,
        index=True,
    ),
    Column("buyer_message_id", String(128), nullable=True),
    Column("intent", String(64), nullable=False, index=True),
    Column("fine_intent", String(64), nullable=True),
    Column("action", String(64), nullable=True, index=True),
    Column("handoff", Boolean, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("result", JSON, nullable=False),
)

_TABLES = [conversations_table, messages_table, turns_table]

# The statements of every turn, built once: a statement made per call costs more in
# SQLAlchemy's construction and cache key than SQLite takes to run it.
_c, _m = conversations_table.c, messages_table.c
_GET = select(conversations_table).where(_c.id == bindparam("cid"))
_BY_ID = update(conversations_table).where(_c.id == bindparam("cid"))  # SET from the other keys
_BUMP = (
    update(conversations_table)
    .where(_c.id == bindparam("cid"))
    .values(message_count=_c.message_count + 1, updated=bindparam("now"))
)
_BUMP_BUYER = _BUMP.values(last_buyer_seq=_c.message_count + 1)
_BUMPED = {False: _BUMP.returning(_c.message_count), True: _BUMP_BUYER.returning(_c.message_count)}
_COUNT = select(_c.message_count).where(_c.id == bindparam("cid"))
_INSERT_MESSAGE = insert(messages_table)
_INSERT_TURN = insert(turns_table)
_LAST_BUYER_SEQ = select(_c.last_buyer_seq).where(_c.id == bindparam("cid"))
_AFTER = (
    select(messages_table)
    .where(_m.conversation_id == bindparam("cid"), _m.seq > bindparam("after"))
    .order_by(_m.seq)
)
_RECENT = (
    select(messages_table)
    .where(_m.conversation_id == bindparam("cid"))
    .order_by(_m.seq.desc())
    .limit(bindparam("limit"))
)

# The same rows as _RECENT, their role and words only: what a draft's history needs.
_RECENT_LINES = (
    select(_m.role, _m.text)
    .where(_m.conversation_id == bindparam("cid"))
    .order_by(_m.seq.desc())
    .limit(bindparam("limit"))
)


class SqlConversationStore:
    """Conversations on any SQLAlchemy engine; times come back in ``tz`` (the shop's zone)."""

    def __init__(self, engine: Engine, *, tz: tzinfo = timezone.utc) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("SqlConversationStore needs a sqlalchemy Engine")
        self._engine = engine
        self._read = reader(engine)  # read-only work: no transaction round trips
        self._tz = tz
        Base.metadata.create_all(engine, tables=_TABLES)

    # --- conversations ---------------------------------------------------------------------

    def create(self, buyer_id: str, now: datetime, conversation_id: str) -> Conversation:
        if not buyer_id or not conversation_id:
            raise ValueError("buyer_id and conversation_id must not be empty")
        row = {
            "id": conversation_id,
            "buyer_id": buyer_id,
            "status": "bot",
            "agent": None,
            "state": {},
            "summary": None,
            "rating": None,
            "created": now,
            "updated": now,
            "waiting_since": None,
            "message_count": 0,
            "last_buyer_seq": 0,
        }
        try:
            with write(self._engine) as conn:
                conn.execute(insert(conversations_table).values(**row))
        except IntegrityError as exc:
            raise Conflict(f"会话 {conversation_id} 已存在") from exc
        return self._conversation(row)

    def get(self, conversation_id: str) -> Conversation | None:
        with read(self._read) as conn:
            row = conn.execute(_GET, {"cid": conversation_id}).first()
        return self._conversation(row._mapping) if row is not None else None

    def buyer_owns(self, conversation_id: str, buyer_id: str) -> bool:
        """True when the conversation exists and belongs to ``buyer_id``."""
        with read(self._read) as conn:
            owner = conn.execute(
                select(conversations_table.c.buyer_id).where(
                    conversations_table.c.id == conversation_id
                )
            ).scalar()
        return owner is not None and owner == buyer_id

    def latest_for(self, buyer_id: str) -> Conversation | None:
        c = conversations_table.c
        with read(self._read) as conn:
            row = conn.execute(
                select(conversations_table)
                .where(c.buyer_id == buyer_id)
                .order_by(c.created.desc(), c.n.desc())
                .limit(1)
            ).first()
        return self._conversation(row._mapping) if row is not None else None

    def list(
        self, status: ConversationStatus | None = None, *, limit: int | None = None
    ) -> builtins.list[Conversation]:
        """Waiting conversations first (longest wait first), then the rest by ``updated`` desc."""
        c = conversations_table.c
        stmt = select(conversations_table).order_by(
            case((c.status == "waiting", 0), else_=1),
            c.waiting_since.asc(),
            c.updated.desc(),
            c.n.desc(),
        )
        if status is not None:
            _check_status(status)
            stmt = stmt.where(c.status == status)
        if limit is not None:
            stmt = stmt.limit(limit)
        with read(self._read) as conn:
            rows = conn.execute(stmt).all()
        return [self._conversation(r._mapping) for r in rows]

    def page(
        self, status: ConversationStatus | None = None, *, limit: int = 50, cursor: Cursor | None = None
    ) -> Page:
        """One page of :meth:`list`'s order, by keyset: the waiting conversations first
        (longest wait first), then the others by ``updated`` desc. ``cursor`` is the previous
        page's ``next``; each page costs the same however many conversations there are."""
        if limit <= 0:
            raise ValueError("limit must be positive")
        if status is not None:
            _check_status(status)
        c = conversations_table.c
        items: builtins.list[Conversation] = []
        rows: builtins.list[Any] = []
        with read(self._read) as conn:
            if status in (None, "waiting") and (cursor is None or cursor.part == "waiting"):
                stmt = select(conversations_table).where(c.status == "waiting")
                if cursor is not None:
                    ws, up, n = cursor.waiting_since, cursor.updated, cursor.n
                    stmt = stmt.where(
                        (c.waiting_since > ws)
                        | ((c.waiting_since == ws) & ((c.updated < up) | ((c.updated == up) & (c.n < n))))
                    )
                stmt = stmt.order_by(c.waiting_since.asc(), c.updated.desc(), c.n.desc()).limit(limit + 1)
                rows = conn.execute(stmt).all()
                items = [self._conversation(r._mapping) for r in rows[:limit]]
                if len(rows) > limit:
                    last = rows[limit - 1]._mapping
                    return Page(items, Cursor(
                        "waiting", waiting_since=last["waiting_since"], updated=last["updated"], n=last["n"]
                    ))
                cursor = None
            if status != "waiting" and len(items) < limit:
                want = limit - len(items)
                stmt = select(conversations_table)
                stmt = stmt.where(c.status == status) if status is not None else stmt.where(c.status != "waiting")
                if cursor is not None and cursor.part == "others":
                    up, n = cursor.updated, cursor.n
                    stmt = stmt.where((c.updated < up) | ((c.updated == up) & (c.n < n)))
                stmt = stmt.order_by(c.updated.desc(), c.n.desc()).limit(want + 1)
                rows = conn.execute(stmt).all()
                items.extend(self._conversation(r._mapping) for r in rows[:want])
                if len(rows) > want:
                    last = rows[want - 1]._mapping
                    return Page(items, Cursor("others", updated=last["updated"], n=last["n"]))
            elif status != "waiting":
                # The page is full of waiting ones: the others start on the next page.
                return Page(items, Cursor("others-start"))
        return Page(items, None)

    def last_messages(self, conversation_ids: builtins.list[str]) -> dict[str, Message]:
        """The newest message of each conversation (by its message counter and the unique
        index on conversation and number: one row each, not the whole history)."""
        if not conversation_ids:
            return {}
        m, c = messages_table.c, conversations_table.c
        stmt = (
            select(messages_table)
            .join(conversations_table, c.id == m.conversation_id)
            .where(c.id.in_(conversation_ids), m.seq == c.message_count)
        )
        with read(self._read) as conn:
            rows = conn.execute(stmt).all()
        return {r._mapping["conversation_id"]: self._message(r._mapping) for r in rows}

    def save_state(self, conversation_id: str, state: dict[str, Any], now: datetime) -> None:
        self._update(conversation_id, {"state": state, "updated": now})

    def set_status(
        self,
        conversation_id: str,
        status: ConversationStatus,
        now: datetime,
        *,
        agent: str | None = None,
        summary: str | None = None,
    ) -> Conversation:
        """Move the conversation to ``status``.

        ``waiting_since`` is set when the conversation starts waiting (kept while it stays
        waiting) and cleared otherwise. Going back to ``bot`` or ``waiting`` releases the
        agent; ``agent`` and ``closed`` keep the current agent unless one is given.
        ``summary`` replaces the handoff summary when given.
        """
        _check_status(status)
        c = conversations_table.c
        values: dict[str, Any] = {"status": status, "updated": now}
        if status in ("bot", "waiting"):
            values["agent"] = None
        elif agent is not None:
            values["agent"] = agent
        if summary is not None:
            values["summary"] = summary
        if self._engine.dialect.update_returning:
            # One statement: the row's own status decides whether the wait goes on.
            since = bindparam("since", now, type_=UtcDateTime())
            waiting = case((c.status == "waiting", c.waiting_since), else_=since) if status == "waiting" else None
            stmt = (
                update(conversations_table).where(c.id == conversation_id)
                .values(**values, waiting_since=waiting).returning(*conversations_table.c)
            )
            with write(self._engine) as conn:
                row = conn.execute(stmt).first()
            if row is None:
                raise NotFound(f"没有会话 {conversation_id}")
            return self._conversation(row._mapping)
        with write(self._engine) as conn:
            row = conn.execute(
                select(conversations_table).where(c.id == conversation_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"没有会话 {conversation_id}")
            current = row._mapping
            if status == "waiting":
                values["waiting_since"] = (
                    current["waiting_since"] if current["status"] == "waiting" else now
                )
            else:
                values["waiting_since"] = None
            conn.execute(
                update(conversations_table).where(c.id == conversation_id).values(**values)
            )
        return self._conversation({**current, **values})

    def claim(self, conversation_id: str, agent: str, now: datetime) -> Conversation:
        """Atomically hand the conversation to ``agent``.

        Raises :class:`Conflict` when another agent already holds it or it is closed, so two
        agents pressing 接入 at once cannot both get it.
        """
        if not agent:
            raise ValueError("agent must not be empty")
        c = conversations_table.c
        with write(self._engine) as conn:
            result = conn.execute(
                update(conversations_table)
                .where(
                    c.id == conversation_id,
                    c.status != "closed",
                    (c.status != "agent") | (c.agent == agent),
                )
                .values(status="agent", agent=agent, waiting_since=None, updated=now)
            )
            if result.rowcount == 0:
                exists = conn.execute(select(c.status).where(c.id == conversation_id)).first()
                if exists is None:
                    raise NotFound(f"没有会话 {conversation_id}")
                raise Conflict("这个会话已经由其他客服接待或已结束")
            row = conn.execute(select(conversations_table).where(c.id == conversation_id)).one()
        return self._conversation(row._mapping)

    def rate(self, conversation_id: str, score: int, now: datetime) -> None:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise TellCustomer("评分请选择1到5分哦")
        self._update(conversation_id, {"rating": score, "updated": now})

    # --- messages --------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        now: datetime,
        message_id: str,
        *,
        author: str | None = None,
        turn_id: str | None = None,
    ) -> Message:
        """Append a message and commit before returning."""
        if role not in _ROLES:
            raise ValueError(f"unknown message role {role!r}")
        if not message_id:
            raise ValueError("message_id must not be empty")
        try:
            with write(self._engine) as conn:
                # The counter update comes first: it takes the write lock (SQLite) or the row
                # lock (PostgreSQL), so concurrent appends get distinct, gap-free numbers.
                bump = _BUMP_BUYER if role == "buyer" else _BUMP
                keys = {"cid": conversation_id, "now": now}
                if self._engine.dialect.update_returning:  # the new number in the same statement
                    seq = conn.execute(_BUMPED[role == "buyer"], keys).scalar()
                else:
                    bumped = conn.execute(bump, keys)
                    seq = None if bumped.rowcount == 0 else conn.execute(_COUNT, keys).scalar_one()
                if seq is None:
                    raise NotFound(f"没有会话 {conversation_id}")
                row = {
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "role": role,
                    "text": text,
                    "author": author,
                    "created": now,
                    "turn_id": turn_id,
                }
                conn.execute(_INSERT_MESSAGE, row)
        except IntegrityError as exc:
            raise Conflict(f"消息 {message_id} 已存在") from exc
        return self._message(row)

    def messages(self, conversation_id: str, *, after_seq: int = 0) -> builtins.list[Message]:
        """Messages in order; ``after_seq`` returns only newer ones (for polling)."""
        with read(self._read) as conn:
            rows = conn.execute(_AFTER, {"cid": conversation_id, "after": after_seq}).all()
        return [self._message(r._mapping) for r in rows]

    def recent(self, conversation_id: str, limit: int) -> builtins.list[Message]:
        """The last ``limit`` messages, oldest first (by ``LIMIT``, not the whole history)."""
        if limit <= 0:
            return []
        with read(self._read) as conn:
            rows = conn.execute(_RECENT, {"cid": conversation_id, "limit": limit}).all()
        return [self._message(r._mapping) for r in reversed(rows)]

    def recent_lines(self, conversation_id: str, limit: int) -> builtins.list[tuple[str, str]]:
        """``recent``'s messages as (role, text), oldest first: no dates to read, no models."""
        if limit <= 0:
            return []
        with read(self._read) as conn:
            rows = conn.execute(_RECENT_LINES, {"cid": conversation_id, "limit": limit}).all()
        return [(r[0], r[1]) for r in reversed(rows)]

    def since_buyer(self, conversation_id: str) -> builtins.list[Message] | None:
        """The messages after the buyer's newest one, oldest first; None when the buyer wrote
        nothing (or there is no such conversation). By the conversation's marker of that
        message and the index on conversation and number: what follows it, not the history."""
        with read(self._read) as conn:
            marker = conn.execute(_LAST_BUYER_SEQ, {"cid": conversation_id}).scalar()
            if not marker:
                return None
            rows = conn.execute(_AFTER, {"cid": conversation_id, "after": marker}).all()
        return [self._message(r._mapping) for r in rows]

    def last_buyer_message(self, conversation_id: str) -> Message | None:
        """The buyer's newest message (one indexed row), None when the buyer wrote nothing."""
        m, c = messages_table.c, conversations_table.c
        stmt = (
            select(messages_table)
            .join(conversations_table, c.id == m.conversation_id)
            .where(c.id == conversation_id, m.seq == c.last_buyer_seq)
        )
        with read(self._read) as conn:
            row = conn.execute(stmt).first()
        return self._message(row._mapping) if row is not None else None

    # --- turns -----------------------------------------------------------------------------

    def add_turn(self, result: TurnResult, buyer_message_id: str, now: datetime) -> None:
        row = {
            "turn_id": result.turn_id,
            "conversation_id": result.conversation_id,
            "buyer_message_id": buyer_message_id,
            "intent": result.intent,
            "fine_intent": result.fine_intent,
            "action": result.action,
            "handoff": result.handoff,
            "status": result.status,
            "latency_ms": float(result.latency_ms),
            "created": now,
            "result": result.model_dump(mode="json"),
        }
        try:
            with write(self._engine) as conn:
                conn.execute(_INSERT_TURN, row)
        except IntegrityError as exc:
            # The foreign key or the unique turn id: which one is asked only when it failed.
            if self._missing(result.conversation_id):
                raise NotFound(f"没有会话 {result.conversation_id}") from exc
            raise Conflict(f"回合 {result.turn_id} 已记录") from exc

    def turns(self, conversation_id: str) -> builtins.list[TurnResult]:
        t = turns_table.c
        with read(self._read) as conn:
            docs = conn.execute(
                select(t.result).where(t.conversation_id == conversation_id).order_by(t.n)
            ).scalars()
            return [TurnResult.model_validate(d) for d in docs]

    # --- helpers ---------------------------------------------------------------------------

    def _update(self, conversation_id: str, values: dict[str, Any]) -> None:
        with write(self._engine) as conn:
            result = conn.execute(_BY_ID, {"cid": conversation_id, **values})
            if result.rowcount == 0:
                raise NotFound(f"没有会话 {conversation_id}")

    def _missing(self, conversation_id: str) -> bool:
        c = conversations_table.c
        # Asked after a write failed: on a connection of its own, not a unit's broken one.
        with self._read.connect() as conn:
            return conn.execute(select(c.n).where(c.id == conversation_id)).first() is None

    def _local(self, value: datetime | None) -> datetime | None:
        return value.astimezone(self._tz) if value is not None else None

    def _conversation(self, row: Any) -> Conversation:
        return Conversation(
            id=row["id"],
            buyer_id=row["buyer_id"],
            status=row["status"],
            agent=row["agent"],
            state=row["state"] or {},
            summary=row["summary"],
            rating=row["rating"],
            created=self._local(row["created"]),
            updated=self._local(row["updated"]),
            waiting_since=self._local(row["waiting_since"]),
        )

    def _message(self, row: Any) -> Message:
        return Message(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            role=row["role"],
            text=row["text"],
            author=row["author"],
            created=self._local(row["created"]),
            turn_id=row["turn_id"],
        )


def _check_status(status: str) -> None:
    if status not in _STATUSES:
        raise ValueError(f"unknown conversation status {status!r}")


__all__ = ["SqlConversationStore", "UtcDateTime"]
