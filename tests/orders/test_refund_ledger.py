"""The refund ledger kept by the SQL order backend, on SQLite (memory, file) and PostgreSQL:
the invariants hold in Python and, as a backstop, in the database itself."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from bot.errors import Conflict
from bot.orders import ledger
from bot.orders.sql import SqlOrderBackend, ledger_table
from bot.shop import Shop
from bot.shop.models import Refund

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture
def backend(sql_engine: Engine, demo_shop: Shop) -> SqlOrderBackend:
    b = SqlOrderBackend(sql_engine, demo_shop)
    b.ensure_seeded()
    return b


def socks_refund(rid: str, amount: str = "58.50", status: str = "SUCCESS", type_: str = "REFUND_ONLY") -> Refund:
    """A refund of the socks (7007-1, paid 58.50) of buyer b02's unshipped order 7007."""
    return Refund(
        id=rid, type=type_, status=status, items=["7007-1"], amount=Decimal(amount),
        reason="不要了", created=NOW, exchange_sku="WZ01-MX" if type_ == "EXCHANGE" else None,
    )


def assert_ledger_holds(backend: SqlOrderBackend) -> None:
    """Every order's records keep the invariants, and the stored ledger agrees with them."""
    for order in backend.export().orders:
        assert ledger.breaches_of(order) == [], order.tid
        stored = backend.ledger(order.tid)
        assert stored == ledger.ledger_of(order), order.tid
        for bal in stored.values():
            assert 0 <= bal.refunded + bal.open <= bal.paid


def test_the_stored_ledger_is_the_seed_ledger(backend: SqlOrderBackend, demo_shop: Shop) -> None:
    assert_ledger_holds(backend)
    assert backend.ledger("7015")["7015-2"].refunded_by == "R1"  # seeded as refunded
    assert backend.ledger("7018")["7018-1"].open_refund == "R3"  # seeded as in progress
    assert backend.ledger("no-such-tid") == {}


def test_five_refunds_of_one_item_under_five_keys_refund_it_once(backend: SqlOrderBackend) -> None:
    first = backend.add_refund("7007", socks_refund("R1"), close_order=False, key="conv-1:act-1")
    assert [r.id for r in first.refunds] == ["R1"]
    for n in range(2, 6):
        with pytest.raises(Conflict, match="已经退过款"):
            backend.add_refund("7007", socks_refund(f"R{n}"), close_order=False, key=f"conv-{n}:act-1")
    order = backend.order("7007")
    assert [r.id for r in order.refunds] == ["R1"]
    assert backend.ledger("7007")["7007-1"].refunded == 5850
    assert_ledger_holds(backend)


@pytest.mark.parametrize(("type_", "status", "amount"), [
    ("RETURN_REFUND", "WAIT_SELLER_AGREE", "58.50"),
    ("EXCHANGE", "WAIT_SELLER_AGREE", "0.00"),
    ("REFUND_ONLY", "WAIT_SELLER_AGREE", "58.50"),
    ("EXCHANGE", "SUCCESS", "0.00"),
])
def test_a_refunded_item_gets_no_return_or_exchange(backend: SqlOrderBackend, type_: str, status: str, amount: str) -> None:
    backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1")
    with pytest.raises(Conflict):
        backend.add_refund("7007", socks_refund("R2", amount, status, type_), close_order=False, key="k2")
    assert [r.id for r in backend.order("7007").refunds] == ["R1"]


def test_an_open_exchange_holds_the_item_against_a_refund(backend: SqlOrderBackend) -> None:
    backend.add_refund("7007", socks_refund("R1", "0.00", "WAIT_SELLER_AGREE", "EXCHANGE"), close_order=False, key="k1")
    with pytest.raises(Conflict, match="进行中的售后"):
        backend.add_refund("7007", socks_refund("R2"), close_order=False, key="k2")
    assert backend.ledger("7007")["7007-1"].open_refund == "R1"


def test_more_money_back_than_was_paid_is_refused(backend: SqlOrderBackend) -> None:
    with pytest.raises(Conflict, match="实付"):
        backend.add_refund("7007", socks_refund("R1", "58.51"), close_order=False, key="k1")
    two = Refund(id="R2", type="REFUND_ONLY", status="SUCCESS", items=["7007-1", "7007-2"],
                 amount=Decimal("137.51"), created=NOW)
    with pytest.raises(Conflict):
        backend.add_refund("7007", two, close_order=True, key="k2")
    assert backend.order("7007").refunds == []
    exact = two.model_copy(update={"amount": Decimal("137.50")})
    assert backend.add_refund("7007", exact, close_order=True, key="k2").status == "TRADE_CLOSED"
    assert {b.oid: b.refunded for b in backend.ledger("7007").values()} == {"7007-1": 5850, "7007-2": 7900}


def test_the_database_itself_refuses_a_row_over_paid(backend: SqlOrderBackend, sql_engine: Engine) -> None:
    """The CHECK constraints live in the schema: a writer that skips the backend is refused too."""
    t = ledger_table.c
    bad_rows = [
        {"refunded_fen": 5851},  # more back than paid
        {"refunded_fen": 5850, "open_fen": 1, "open_refund": "X"},  # refunded + open over paid
        {"open_refund": "X", "refunded_by": "Y"},  # an after-sale on a refunded item
        {"open_fen": 100},  # open money without an open after-sale
        {"refunded_fen": -1},
    ]
    for values in bad_rows:
        with pytest.raises(IntegrityError):
            with sql_engine.begin() as conn:
                conn.execute(update(ledger_table).where(t.tid == "7007", t.oid == "7007-1").values(**values))
    assert backend.ledger("7007")["7007-1"] == ledger.ItemBalance(oid="7007-1", paid=5850)


def test_the_database_backstop_is_a_conflict_and_leaves_the_key_unused(backend: SqlOrderBackend, sql_engine: Engine) -> None:
    """When the order's records and the ledger disagree (a writer that skipped the Python
    check), the database refuses the change as a Conflict, not as an idempotency retry."""
    t = ledger_table.c
    where = (t.tid == "7007", t.oid == "7007-1")
    # Another writer took the item in the ledger only: the conditional update matches nothing.
    with sql_engine.begin() as conn:
        conn.execute(update(ledger_table).where(*where).values(refunded_by="ELSEWHERE", refunded_fen=5850))
    with pytest.raises(Conflict):
        backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1")
    # Paid shrank in the ledger only: the CHECK constraint fires inside the transaction.
    with sql_engine.begin() as conn:
        conn.execute(update(ledger_table).where(*where).values(refunded_by=None, refunded_fen=0, paid_fen=100))
    with pytest.raises(Conflict, match="实付"):
        backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1")
    assert backend.order("7007").refunds == []
    assert backend.ledger("7007")["7007-1"].refunded == 0
    # Nothing was stored under the key: once the ledger is right, the same key goes through.
    with sql_engine.begin() as conn:
        conn.execute(update(ledger_table).where(*where).values(paid_fen=5850))
    assert [r.id for r in backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1").refunds] == ["R1"]
    assert_ledger_holds(backend)


def test_a_retried_key_returns_the_first_refund_even_after_the_item_is_refunded(backend: SqlOrderBackend) -> None:
    first = backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1")
    assert backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1") == first
    assert len(backend.order("7007").refunds) == 1


def test_a_seed_that_breaks_the_ledger_is_refused_when_the_backend_is_built(sql_engine: Engine, demo_shop: Shop) -> None:
    orders = [
        o.model_copy(update={"refunds": [*o.refunds, o.refunds[0].model_copy(update={"id": "R1-again"})]})
        if o.tid == "7015" else o
        for o in demo_shop.orders
    ]
    with pytest.raises(ValueError, match="7015.*already refunded by R1"):
        SqlOrderBackend(sql_engine, demo_shop.model_copy(update={"orders": orders}))


def test_reset_restores_the_seed_ledger(backend: SqlOrderBackend) -> None:
    backend.add_refund("7007", socks_refund("R1"), close_order=False, key="k1")
    backend.reset()
    assert backend.ledger("7007")["7007-1"].free
    assert_ledger_holds(backend)
