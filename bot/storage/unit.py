"""A unit of work: several stores' writes committed as one transaction.

The end of a turn stores its draft, the dialogue state, a status change, the reply and the
turn's record; inside :func:`unit_of_work` those writes share one connection and one commit,
so a turn's end costs one commit instead of five and no reader ever sees the reply or the
draft without its turn. Stores open
their connections through :func:`write` and :func:`read`: outside a unit these are
``engine.begin()`` and ``engine.connect()``, inside one they give the unit's connection to the
same database (reads included, so they see the unit's own writes).

A unit begins its transaction at its first write and commits when the block ends; an
exception rolls every write back. Units do not nest: an inner one is part of the outer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar

from sqlalchemy.engine import Connection, Engine


class _Unit:
    def __init__(self) -> None:
        self.stack = ExitStack()
        self.connections: dict[int, Connection] = {}  # by the engine's pool: one per database

    def joined(self, engine: Engine) -> Connection | None:
        return self.connections.get(id(engine.pool))

    def join(self, engine: Engine) -> Connection:
        conn = self.joined(engine)
        if conn is None:
            conn = self.connections[id(engine.pool)] = self.stack.enter_context(engine.begin())
        return conn


_current: ContextVar[_Unit | None] = ContextVar("xiaoer_unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit every :func:`write` inside the block at its end, or none of them."""
    if _current.get() is not None:
        yield
        return
    unit = _Unit()
    token = _current.set(unit)
    try:
        with unit.stack:
            yield
    finally:
        _current.reset(token)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction: the unit's (committed with it) or one of its own,
    committed when the block ends."""
    unit = _current.get()
    if unit is not None:
        yield unit.join(engine)
        return
    with engine.begin() as conn:
        yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A connection for reading: the unit's when it has written to this database (so the
    read sees those writes), else one of ``engine``'s."""
    unit = _current.get()
    conn = unit.joined(engine) if unit is not None else None
    if conn is not None:
        yield conn
        return
    with engine.connect() as own:
        yield own
