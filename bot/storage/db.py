"""Engine creation and the shared declarative ``Base``.

Each store module (orders, conversations, suggestions, accounts) declares its tables on
``Base``; :func:`create_all` makes them. SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

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


def create_all(engine: Engine) -> None:
    # Import the table modules so their tables are registered on Base.
    import bot.accounts  # noqa: F401
    import bot.conversations.sql  # noqa: F401
    import bot.orders.sql  # noqa: F401
    import bot.suggestions.sql  # noqa: F401

    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:  # type: ignore[type-arg]
    return sessionmaker(engine, expire_on_commit=False)
