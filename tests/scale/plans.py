"""The statements a block of code sends, and their query plans, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def captured(engine: Engine, kinds: tuple[str, ...] = ("SELECT",)) -> Iterator[list[tuple[str, Any]]]:
    """The statements of ``kinds`` sent to ``engine`` inside the block, one by one (batched
    inserts and updates are left out)."""
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(kinds) and not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_of(engine: Engine, statement: str, parameters: Any) -> str:
    """The query plan of ``statement`` (PostgreSQL: with sequential scans off, since a tiny
    table would be scanned anyway)."""
    with engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "sqlite":
            cur.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in cur.fetchall())
        cur.execute("SET enable_seqscan = off")
        cur.execute(f"EXPLAIN {statement}", parameters)
        plan = "\n".join(str(row[0]) for row in cur.fetchall())
        cur.execute("RESET enable_seqscan")
        conn.rollback()
        return plan
