"""The embedded SQL order backend: seeding, exports, state changes, idempotency, durability."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.errors import Conflict, NotFound
from bot.orders.backend import OrdersExport, Ticket
from bot.orders.sql import SqlOrderBackend
from bot.shop import Shop
from bot.shop.models import Address, Order, Refund
from bot.storage.db import make_engine

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture
def engine(sql_engine: Engine) -> Engine:
    return sql_engine


@pytest.fixture
def backend(engine: Engine, mini_shop: Shop) -> SqlOrderBackend:
    b = SqlOrderBackend(engine, mini_shop)
    b.ensure_seeded()
    return b


def seed_export(shop: Shop) -> dict:
    return OrdersExport(buyers=list(shop.buyers.values()), orders=shop.orders).model_dump(
        mode="json"
    )


def first_order(shop: Shop, status: str, *, with_refunds: bool | None = None) -> Order:
    for order in shop.orders:
        if order.status != status:
            continue
        if with_refunds is not None and bool(order.refunds) != with_refunds:
            continue
        return order
    raise AssertionError(f"the shop has no {status} order")


def refund_for(order: Order, refund_id: str, status: str = "WAIT_SELLER_AGREE") -> Refund:
    item = order.items[0]
    return Refund(
        id=refund_id,
        type="REFUND_ONLY",
        status=status,
        items=[item.oid],
        amount=item.paid,
        reason="不想要了",
        created=NOW,
    )


def assert_others_unchanged(backend: SqlOrderBackend, shop: Shop, *changed: str) -> None:
    now = {o.tid: o.model_dump(mode="json") for o in backend.export().orders}
    for order in shop.orders:
        if order.tid not in changed:
            assert now[order.tid] == order.model_dump(mode="json"), order.tid


# --- seeding -------------------------------------------------------------------------------


def test_export_equals_the_seed_of_the_mini_shop(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    exported = backend.export()
    assert exported.model_dump(mode="json") == seed_export(mini_shop)
    assert exported.tickets == []


def test_export_equals_the_seed_of_the_demo_shop(engine: Engine, demo_shop: Shop) -> None:
    backend = SqlOrderBackend(engine, demo_shop)
    assert backend.ensure_seeded() is True
    assert backend.export().model_dump(mode="json") == seed_export(demo_shop)
    for order in demo_shop.orders:
        assert backend.order(order.tid) == order


def test_money_comes_back_as_exact_decimals(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    for seeded in mini_shop.orders:
        stored = backend.order(seeded.tid)
        assert stored is not None
        assert isinstance(stored.total_paid, Decimal)
        assert str(stored.total_paid) == str(seeded.total_paid)
        assert [str(i.paid) for i in stored.items] == [str(i.paid) for i in seeded.items]
        assert sum((i.paid for i in stored.items), Decimal("0")) == stored.total_paid


def test_buyers_and_orders_are_looked_up_by_id(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    assert backend.buyers() == list(mini_shop.buyers.values())
    some = next(iter(mini_shop.buyers.values()))
    assert backend.buyer(some.id) == some
    assert backend.buyer("no-such-buyer") is None
    assert backend.order("no-such-tid") is None


def test_orders_of_lists_a_buyers_orders_newest_first(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    for buyer_id in mini_shop.buyers:
        expected = sorted(
            (o for o in mini_shop.orders if o.buyer == buyer_id),
            key=lambda o: o.created,
            reverse=True,
        )
        assert [o.tid for o in backend.orders_of(buyer_id)] == [o.tid for o in expected]
    assert backend.orders_of("no-such-buyer") == []


def test_demo_buyers_see_only_their_own_orders(engine: Engine, demo_shop: Shop) -> None:
    backend = SqlOrderBackend(engine, demo_shop)
    backend.ensure_seeded()
    for buyer_id in demo_shop.buyers:
        orders = backend.orders_of(buyer_id)
        assert all(o.buyer == buyer_id for o in orders)
        assert [o.created for o in orders] == sorted((o.created for o in orders), reverse=True)


# --- cancel --------------------------------------------------------------------------------


def test_cancel_closes_an_unpaid_order_and_nothing_else(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    result = backend.cancel_order(unpaid.tid, key="k-cancel")
    assert result.status == "TRADE_CLOSED"
    assert backend.order(unpaid.tid).status == "TRADE_CLOSED"
    assert backend.order(unpaid.tid).items == unpaid.items
    assert_others_unchanged(backend, mini_shop, unpaid.tid)


def test_cancel_of_a_paid_order_is_a_conflict_and_changes_nothing(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    paid = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    with pytest.raises(Conflict):
        backend.cancel_order(paid.tid, key="k-1")
    assert backend.export().model_dump(mode="json") == seed_export(mini_shop)


def test_cancel_of_an_unknown_order_is_not_found(backend: SqlOrderBackend) -> None:
    with pytest.raises(NotFound):
        backend.cancel_order("no-such-tid", key="k-1")


# --- refunds -------------------------------------------------------------------------------


def test_refund_with_close_order_closes_the_order(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    refund = refund_for(order, "RF-1", status="SUCCESS")
    result = backend.add_refund(order.tid, refund, close_order=True, key="k-refund")
    assert result.status == "TRADE_CLOSED"
    stored = backend.order(order.tid)
    assert stored.status == "TRADE_CLOSED"
    assert stored.refunds == [refund]
    assert stored.refunds[0].amount == order.items[0].paid
    assert_others_unchanged(backend, mini_shop, order.tid)


def test_refund_without_close_order_keeps_the_status(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    backend.add_refund(order.tid, refund_for(order, "RF-1"), close_order=False, key="k")
    stored = backend.order(order.tid)
    assert stored.status == order.status
    assert [r.id for r in stored.refunds] == ["RF-1"]


def test_same_key_twice_makes_one_refund(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    first = backend.add_refund(order.tid, refund_for(order, "RF-1"), close_order=False, key="k")
    again = backend.add_refund(order.tid, refund_for(order, "RF-1"), close_order=False, key="k")
    assert again == first
    assert len(backend.order(order.tid).refunds) == 1


def test_same_key_twice_cancels_once_without_conflict(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    first = backend.cancel_order(unpaid.tid, key="k")
    assert backend.cancel_order(unpaid.tid, key="k") == first


def test_a_key_reused_for_another_change_is_a_conflict(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    backend.cancel_order(unpaid.tid, key="k")
    with pytest.raises(Conflict):
        backend.update_address(unpaid.tid, unpaid.address, key="k")


def test_a_failed_change_does_not_use_up_its_key(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    paid = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    with pytest.raises(Conflict):
        backend.cancel_order(paid.tid, key="k")
    result = backend.add_refund(paid.tid, refund_for(paid, "RF-1"), close_order=False, key="k")
    assert len(result.refunds) == 1


def test_one_open_refund_per_item(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    backend.add_refund(order.tid, refund_for(order, "RF-1"), close_order=False, key="k1")
    with pytest.raises(Conflict):
        backend.add_refund(order.tid, refund_for(order, "RF-2"), close_order=False, key="k2")
    assert [r.id for r in backend.order(order.tid).refunds] == ["RF-1"]


def test_an_item_whose_refund_was_closed_may_get_a_new_one(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = next(o for o in mini_shop.orders if o.refunds and not any(r.is_open for r in o.refunds))
    closed_oid = order.refunds[0].items[0]
    refund = Refund(
        id="RF-NEW",
        type="RETURN_REFUND",
        status="WAIT_SELLER_AGREE",
        items=[closed_oid],
        amount=order.item(closed_oid).paid,
        created=NOW,
    )
    stored = backend.add_refund(order.tid, refund, close_order=False, key="k")
    assert [r.id for r in stored.refunds] == [r.id for r in order.refunds] + ["RF-NEW"]


def test_refund_of_an_unknown_item_or_order_is_not_found(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    bad = refund_for(order, "RF-1").model_copy(update={"items": ["no-such-oid"]})
    with pytest.raises(NotFound):
        backend.add_refund(order.tid, bad, close_order=False, key="k1")
    with pytest.raises(NotFound):
        backend.add_refund("no-such-tid", refund_for(order, "RF-1"), close_order=False, key="k2")
    assert backend.export().model_dump(mode="json") == seed_export(mini_shop)


def test_a_refund_id_cannot_be_used_twice_in_an_order(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    backend.add_refund(order.tid, refund_for(order, "RF-1", "CLOSED"), close_order=False, key="a")
    with pytest.raises(Conflict):
        backend.add_refund(order.tid, refund_for(order, "RF-1"), close_order=False, key="b")


# --- address and tickets -------------------------------------------------------------------


def test_update_address_replaces_it(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    new = Address(name="张三", phone="13700003333", region="上海市 上海市 浦东新区", detail="世纪大道1号")
    assert backend.update_address(order.tid, new, key="k").address == new
    assert backend.order(order.tid).address == new
    assert_others_unchanged(backend, mini_shop, order.tid)
    with pytest.raises(NotFound):
        backend.update_address("no-such-tid", new, key="k2")


def test_tickets_are_stored_listed_and_exported(
    backend: SqlOrderBackend, mini_shop: Shop
) -> None:
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    urge = Ticket(
        id="T1", tid=order.tid, buyer=order.buyer, kind="urge_shipping", note="催发货", created=NOW
    )
    other = Ticket(id="T2", buyer=order.buyer, kind="complaint", note="客服态度", created=NOW)
    assert backend.add_ticket(urge, key="k1") == urge
    assert backend.add_ticket(urge, key="k1") == urge  # retried: still one ticket
    backend.add_ticket(other, key="k2")
    assert backend.tickets() == [urge, other]
    assert backend.tickets(order.tid) == [urge]
    assert backend.export().tickets == [urge, other]
    with pytest.raises(Conflict):
        backend.add_ticket(urge, key="k3")
    with pytest.raises(NotFound):
        backend.add_ticket(urge.model_copy(update={"id": "T9", "tid": "no-such-tid"}), key="k4")


# --- reset and re-seeding ------------------------------------------------------------------


def test_reset_drops_every_change(backend: SqlOrderBackend, mini_shop: Shop) -> None:
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    backend.cancel_order(unpaid.tid, key="k")
    note = Ticket(id="T1", buyer=unpaid.buyer, kind="other", note="x", created=NOW)
    backend.add_ticket(note, key="t")
    backend.reset()
    assert backend.export().model_dump(mode="json") == seed_export(mini_shop)
    # Idempotency keys are dropped too: the same key changes the fresh order again.
    assert backend.cancel_order(unpaid.tid, key="k").status == "TRADE_CLOSED"


def test_changes_survive_a_restart_on_the_same_file(tmp_path: Path, mini_shop: Shop) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    first = SqlOrderBackend(make_engine(url), mini_shop)
    assert first.ensure_seeded() is True
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    first.cancel_order(unpaid.tid, key="k")

    again = SqlOrderBackend(make_engine(url), mini_shop)
    assert again.ensure_seeded() is False
    assert again.order(unpaid.tid).status == "TRADE_CLOSED"
    assert again.cancel_order(unpaid.tid, key="k").status == "TRADE_CLOSED"  # key remembered


def test_a_changed_seed_is_re_seeded_at_start_up(tmp_path: Path, mini_shop: Shop) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    old = SqlOrderBackend(make_engine(url), mini_shop)
    old.ensure_seeded()
    unpaid = first_order(mini_shop, "WAIT_BUYER_PAY")
    old.cancel_order(unpaid.tid, key="k")

    changed_orders = [o for o in mini_shop.orders if o.tid != unpaid.tid]
    edited = mini_shop.model_copy(update={"orders": changed_orders})
    new = SqlOrderBackend(make_engine(url), edited)
    assert new.seed_hash != old.seed_hash
    assert new.ensure_seeded() is True
    assert new.export().model_dump(mode="json") == seed_export(edited)
    assert new.order(unpaid.tid) is None


# --- concurrency ---------------------------------------------------------------------------


def run_together(n: int, work) -> list:  # type: ignore[no-untyped-def]
    results: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_retries_with_one_key_make_one_refund(shared_engine: Engine, mini_shop: Shop) -> None:
    backend = SqlOrderBackend(shared_engine, mini_shop)
    backend.ensure_seeded()
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    results = run_together(
        6,
        lambda i: backend.add_refund(
            order.tid, refund_for(order, "RF-1"), close_order=False, key="k"
        ),
    )
    assert all(isinstance(r, Order) for r in results), results
    assert len(backend.order(order.tid).refunds) == 1


def test_concurrent_refunds_of_one_item_open_only_one(shared_engine: Engine, mini_shop: Shop) -> None:
    backend = SqlOrderBackend(shared_engine, mini_shop)
    backend.ensure_seeded()
    order = first_order(mini_shop, "WAIT_SELLER_SEND_GOODS")
    results = run_together(
        6,
        lambda i: backend.add_refund(
            order.tid, refund_for(order, f"RF-{i}"), close_order=False, key=f"k{i}"
        ),
    )
    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 5, results
    assert len(backend.order(order.tid).refunds) == 1
