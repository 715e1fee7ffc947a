"""Engine creation and the shared declarative ``Base``.

Each store module (orders, conversations, suggestions, accounts) declares its tables on
``Base`` and is listed in :data:`MODEL_MODULES`; the migrations in ``migrations/`` make and
change them (:mod:`bot.storage.schema`). SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

import importlib
import sqlite3
import time
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import DateTime, Dialect, Engine, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC.

    SQLite has no time-zone type and SQLAlchemy drops the offset there, so values are
    normalised to UTC before binding (naive UTC on SQLite, ``timestamptz`` elsewhere) and
    come back aware in UTC. Naive datetimes are refused: they would be stored ambiguously.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a stored time needs a time zone (got a naive datetime)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class EncodedJSON(str):
    """A value of a JSON column already encoded as JSON text, stored as it is by an engine
    of :func:`make_engine` (a large document is then encoded once, not once more by the
    column type). Make it with :func:`json_value`."""


def encode_json(value: Any) -> str:
    """``value`` as the JSON text of a column: text outside ASCII as it is, and keys that are
    not text written as text, as ``json.dumps`` writes them (orjson, several times faster)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


decode_json = orjson.loads  # the value of a column's JSON text


def _json_serializer(value: Any) -> str:
    if isinstance(value, EncodedJSON):
        return str.__str__(value)
    return encode_json(value)


def json_value(engine: Engine, text: str) -> Any:
    """What to bind to a JSON column of ``engine`` for the JSON ``text`` (:func:`encode_json`
    of the value): the text itself where the engine stores it as it is, else the value."""
    if getattr(engine.dialect, "_json_serializer", None) is _json_serializer:
        return EncodedJSON(text)
    return decode_json(text)


SQLITE_WAIT_S = 30.0  # how long a SQLite connection waits for another one's lock


def make_engine(url: str) -> Engine:
    """Create an engine; ``sqlite://`` (memory) shares one connection across threads.
    JSON columns are encoded by :func:`encode_json`, :class:`EncodedJSON` values as they are."""
    kwargs: dict[str, Any] = {"json_serializer": _json_serializer, "json_deserializer": decode_json}
    if url.startswith("sqlite"):
        # A writer holds the file for as long as its transaction (a migration, on a busy
        # machine, for seconds): wait for it rather than fail with "database is locked".
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_WAIT_S}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url not in ("sqlite://", "sqlite:///:memory:"):
                _write_ahead(cur)
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def _write_ahead(cur: Any) -> None:
    """Put a SQLite file in WAL mode (it stays so; a connection that finds it so does nothing).
    Switching needs the file to itself and SQLite does not wait for that (no busy handler):
    when another connection holds it, try again until it is switched or ``SQLITE_WAIT_S``."""
    deadline = time.monotonic() + SQLITE_WAIT_S
    pause = 0.005
    while True:
        if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cur.execute("PRAGMA journal_mode=WAL").fetchall()
            return  # switched, or a file system without WAL: SQLite keeps its own mode
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def reader(engine: Engine) -> Engine:
    """``engine`` for read-only work: on PostgreSQL its connections run in autocommit, so a
    read costs no ``BEGIN`` and ``ROLLBACK`` round trips (each statement reads committed data,
    as in a READ COMMITTED transaction). Writes keep using ``engine.begin()``."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


# Every module that declares tables on ``Base``; migrations and ``create_all`` see these.
MODEL_MODULES: tuple[str, ...] = (
    "bot.accounts",
    "bot.conversations.sql",
    "bot.orders.sql",
    "bot.suggestions.sql",
    "bot.workbench.log",
    "bot.outreach.outbox",
    "bot.outreach.ratings",
)


def load_models() -> None:
    """Import the table modules so their tables are registered on ``Base``."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


def create_all(engine: Engine) -> None:
    """Every table at once, without migrations (in-memory test databases, benchmarks).

    A served database is made and kept by :func:`bot.storage.schema.prepare` instead."""
    load_models()
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:  # type: ignore[type-arg]
    return sessionmaker(engine, expire_on_commit=False)
