"""Engine creation and the shared declarative ``Base``.

Each store module (orders, conversations, suggestions, accounts) declares its tables on
``Base`` and is listed in :data:`MODEL_MODULES`; the migrations in ``migrations/`` make and
change them (:mod:`bot.storage.schema`). SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from typing import Any

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


def make_engine(url: str) -> Engine:
    """Create an engine; ``sqlite://`` (memory) shares one connection across threads."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url not in ("sqlite://", "sqlite:///:memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


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
