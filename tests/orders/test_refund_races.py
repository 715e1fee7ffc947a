"""Concurrent workers, each with its own engine and connections (as separate processes would
be), race after-sales on one item of a SQLite file or a PostgreSQL database: exactly one
wins, the others get a Conflict, and the ledger never pays out more than was paid."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.errors import Conflict
from bot.orders import ledger
from bot.orders.sql import SqlOrderBackend
from bot.shop import Shop
from bot.shop.models import Order, Refund
from bot.storage.db import make_engine

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
WORKERS = 8
ROUNDS = 5


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def workers(shared_engine: Engine, demo_shop: Shop) -> Iterator[Callable[[int], list[SqlOrderBackend]]]:
    """``n`` backends on the shared database, each with its own engine (its own pool)."""
    engines: list[Engine] = []

    def spawn(n: int) -> list[SqlOrderBackend]:
        fresh = [make_engine(url_of(shared_engine)) for _ in range(n)]
        engines.extend(fresh)
        return [SqlOrderBackend(e, demo_shop) for e in fresh]

    yield spawn
    for e in engines:
        e.dispose()


def race(backends: list[SqlOrderBackend], work: Callable[[int, SqlOrderBackend], Any]) -> list[Any]:
    results: list[Any] = [None] * len(backends)
    start = threading.Barrier(len(backends))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i, backends[i])
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(backends))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def refund(rid: str, oids: list[str], amount: str, type_: str = "REFUND_ONLY", status: str = "SUCCESS") -> Refund:
    return Refund(id=rid, type=type_, status=status, items=oids, amount=Decimal(amount), reason="不要了",
                  created=NOW, exchange_sku="WZ01-MX" if type_ == "EXCHANGE" else None)


KINDS = [  # (type, status, amount) of what each worker asks for the socks of order 7007
    ("REFUND_ONLY", "SUCCESS", "58.50"),
    ("REFUND_ONLY", "WAIT_SELLER_AGREE", "58.50"),
    ("RETURN_REFUND", "WAIT_SELLER_AGREE", "58.50"),
    ("EXCHANGE", "WAIT_SELLER_AGREE", "0.00"),
]


@pytest.fixture
def backend(shared_engine: Engine, demo_shop: Shop) -> SqlOrderBackend:
    b = SqlOrderBackend(shared_engine, demo_shop)
    b.ensure_seeded()
    return b


def outcome(results: list[Any]) -> tuple[int, int, list[Any]]:
    won = sum(isinstance(r, Order) for r in results)
    lost = sum(isinstance(r, Conflict) for r in results)
    other = [r for r in results if not isinstance(r, Order | Conflict)]
    return won, lost, other


def test_workers_racing_refunds_of_one_item_refund_it_once(
    backend: SqlOrderBackend, shared_engine: Engine, workers: Callable[[int], list[SqlOrderBackend]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pool = workers(WORKERS)
    tally = []
    for n in range(ROUNDS):
        backend.reset()
        results = race(pool, lambda i, b: b.add_refund(
            "7007", refund(f"R{i}", ["7007-1"], "58.50"), close_order=False, key=f"conv-{i}:round-{n}"))
        won, lost, other = outcome(results)
        assert (won, lost, other) == (1, WORKERS - 1, []), results
        order = backend.order("7007")
        assert order is not None and len(order.refunds) == 1
        assert backend.ledger("7007")["7007-1"].refunded == 5850
        assert backend.ledger("7007") == ledger.ledger_of(order)
        tally.append(won)
    with capsys.disabled():
        print(f"\n[{shared_engine.dialect.name}] {ROUNDS} rounds x {WORKERS} workers refunding 7007-1: "
              f"winners per round {tally}, refunded 58.50 of paid 58.50 each round")


def test_workers_racing_every_kind_of_after_sale_open_one(
    backend: SqlOrderBackend, workers: Callable[[int], list[SqlOrderBackend]]
) -> None:
    pool = workers(WORKERS)
    for n in range(ROUNDS):
        backend.reset()

        def ask(i: int, b: SqlOrderBackend) -> Order:
            type_, status, amount = KINDS[i % len(KINDS)]
            return b.add_refund("7007", refund(f"R{i}", ["7007-1"], amount, type_, status), close_order=False, key=f"k{i}:{n}")

        won, lost, other = outcome(race(pool, ask))
        assert (won, lost, other) == (1, WORKERS - 1, [])
        order = backend.order("7007")
        assert order is not None and ledger.breaches_of(order) == []
        assert backend.ledger("7007") == ledger.ledger_of(order)


def test_workers_on_different_items_all_go_through(
    backend: SqlOrderBackend, workers: Callable[[int], list[SqlOrderBackend]]
) -> None:
    """The ledger refuses what breaks it, not what merely runs at the same time."""
    pool = workers(4)
    jobs = [("7007", "7007-1", "58.50"), ("7007", "7007-2", "79.00"),
            ("7015", "7015-1", "117.14"), ("7020", "7020-1", "89.00")]
    results = race(pool, lambda i, b: b.add_refund(
        jobs[i][0], refund(f"R{i}", [jobs[i][1]], jobs[i][2]), close_order=False, key=f"k{i}"))
    assert all(isinstance(r, Order) for r in results), results
    assert {o.tid: len(o.refunds) for o in backend.export().orders if o.tid in ("7007", "7015", "7020")} == {
        "7007": 2, "7015": 2, "7020": 1}


def test_one_key_retried_by_racing_workers_refunds_once(
    backend: SqlOrderBackend, workers: Callable[[int], list[SqlOrderBackend]]
) -> None:
    pool = workers(WORKERS)
    results = race(pool, lambda i, b: b.add_refund(
        "7007", refund("R1", ["7007-1"], "58.50"), close_order=False, key="conv-1:act-1"))
    assert all(isinstance(r, Order) for r in results), results
    order = backend.order("7007")
    assert order is not None and [r.id for r in order.refunds] == ["R1"]


def test_short_numbers_are_never_handed_out_twice(workers: Callable[[int], list[SqlOrderBackend]]) -> None:
    """Eight workers each take five numbers at once: forty different numbers, 1 to 40."""
    backends = workers(WORKERS)
    results = race(backends, lambda _, b: [b.next_number("refund") for _ in range(ROUNDS)])
    assert not [r for r in results if isinstance(r, Exception)], results
    taken = sorted(n for r in results for n in r)
    assert taken == list(range(1, WORKERS * ROUNDS + 1))


def test_processes_started_together_on_a_fresh_database_seed_it_once(
    workers: Callable[[int], list[SqlOrderBackend]], demo_shop: Shop
) -> None:
    """Eight backends seeding one empty database at once: no duplicate rows, no error, the
    shop's orders there exactly once (PostgreSQL: one seeds, the others find it seeded)."""
    backends = workers(WORKERS)
    results = race(backends, lambda _, b: b.ensure_seeded())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert any(results)
    assert sorted(o.tid for o in backends[0].export().orders) == sorted(o.tid for o in demo_shop.orders)
    assert not any(b.ensure_seeded() for b in backends)  # seeded now: nobody seeds again
