"""Property: whatever sequence of refund, return, exchange and cancel requests arrives from
whichever conversations (new keys, retried keys, amounts over paid), the order backend keeps
the refund ledger's invariants after every step and refuses exactly what breaks them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bot.errors import Conflict
from bot.orders.sql import SqlOrderBackend, ledger_table, orders_table
from bot.shop import Shop
from bot.shop.models import OPEN_REFUND_STATUSES, Order, Refund

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
# Unshipped, signed, with a refunded item, an open return, an open exchange, a closed
# exchange, a refused return, a finished exchange, several items, unpaid: every ledger case.
TIDS = ["7007", "7015", "7018", "7021", "7023", "7029", "7030", "7037", "7044", "7014"]
STATUSES = ["WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS",
            "SUCCESS", "SUCCESS", "SUCCESS", "SELLER_REFUSE_BUYER", "CLOSED"]
CONVERSATIONS = 5


@dataclass(frozen=True)
class Request:
    conversation: int
    op: str  # "refund" or "cancel"
    tid: str
    retry: bool  # re-send this conversation's previous request under its key
    oids: tuple[str, ...] = ()
    type: str = "REFUND_ONLY"
    status: str = "SUCCESS"
    amount: str = "exact"  # "exact" (the items' paid), "part" or "over"
    cents: int = 0  # how much less (part) or more (over), in 分
    close_order: bool = False


def requests(shop: Shop) -> st.SearchStrategy[Request]:
    orders = {o.tid: o for o in shop.orders}

    @st.composite
    def one(draw: st.DrawFn) -> Request:
        tid = draw(st.sampled_from(TIDS))
        conversation = draw(st.integers(0, CONVERSATIONS - 1))
        retry = draw(st.booleans())
        if draw(st.integers(0, 9)) == 0:
            return Request(conversation, "cancel", tid, retry)
        oids = [i.oid for i in orders[tid].items]
        chosen = draw(st.lists(st.sampled_from(oids), min_size=1, max_size=len(oids) + 1))
        return Request(
            conversation, "refund", tid, retry, tuple(chosen),
            type=draw(st.sampled_from(["REFUND_ONLY", "RETURN_REFUND", "EXCHANGE"])),
            status=draw(st.sampled_from(STATUSES)),
            amount=draw(st.sampled_from(["exact", "exact", "part", "over"])),
            cents=draw(st.integers(1, 5000)),
            close_order=draw(st.booleans()),
        )

    return one()


def paid_of(order: Order, oids: tuple[str, ...]) -> Decimal:
    return sum((i.paid for i in order.items if i.oid in oids), Decimal(0))


def refund_of(order: Order, req: Request, rid: str) -> Refund:
    paid = paid_of(order, req.oids)
    if req.type == "EXCHANGE":
        amount = Decimal(0)
    elif req.amount == "part":
        amount = max(Decimal(0), paid - Decimal(req.cents) / 100)
    elif req.amount == "over":
        amount = paid + Decimal(req.cents) / 100
    else:
        amount = paid
    sku = order.items[0].sku
    return Refund(id=rid, type=req.type, status=req.status, items=list(req.oids), amount=amount,
                  created=NOW, exchange_sku=sku if req.type == "EXCHANGE" else None)


def oracle_allows(order: Order, refund: Refund) -> bool:
    """The shop-format rules, written out independently of :mod:`bot.orders.ledger`."""
    if any(r.id == refund.id for r in order.refunds):
        return False
    if refund.status not in OPEN_REFUND_STATUSES and refund.status != "SUCCESS":
        return True  # a refused or closed record takes nothing
    for oid in refund.items:
        for r in order.refunds:
            if oid not in r.items:
                continue
            if r.status in OPEN_REFUND_STATUSES:
                return False  # one open after-sale per item
            if r.status == "SUCCESS" and r.type != "EXCHANGE":
                return False  # a refunded item gets no new after-sale
    if refund.type == "EXCHANGE":
        return True
    # Split in proportion to paid, no share exceeds its item's paid iff the total does not.
    return refund.amount <= paid_of(order, tuple(refund.items))


def invariants(engine: Engine) -> None:
    """Per item: refunded + open ≤ paid, one open after-sale, nothing after a refund; and the
    stored ledger says the same as the orders' records."""
    with engine.connect() as conn:
        docs = conn.execute(select(orders_table.c.doc).where(orders_table.c.tid.in_(TIDS))).scalars()
        orders = {o.tid: o for o in map(Order.model_validate, docs)}
        rows = conn.execute(select(ledger_table).where(ledger_table.c.tid.in_(TIDS))).all()
    stored = {(r.tid, r.oid): r for r in rows}
    assert set(stored) == {(o.tid, i.oid) for o in orders.values() for i in o.items}
    for order in orders.values():
        for item in order.items:
            row = stored[(order.tid, item.oid)]
            holding = [r for r in order.refunds if item.oid in r.items and
                       (r.status in OPEN_REFUND_STATUSES or r.status == "SUCCESS")]
            # Only finished exchanges ever free the item again: every record that held it
            # before the last one is one, so no two overlap and nothing follows a refund.
            assert all(r.type == "EXCHANGE" and r.status == "SUCCESS" for r in holding[:-1]), (order.tid, holding)
            last = holding[-1] if holding else None
            opened = last if last is not None and last.status in OPEN_REFUND_STATUSES else None
            refunded = last if last is not None and last.status == "SUCCESS" and last.type != "EXCHANGE" else None
            assert row.paid_fen == int(item.paid * 100)
            assert 0 <= row.refunded_fen + row.open_fen <= row.paid_fen
            assert row.open_refund == (opened.id if opened else None)
            assert row.refunded_by == (refunded.id if refunded else None)
        money = sum((r.amount for r in order.refunds if r.status == "SUCCESS" and r.type != "EXCHANGE"), Decimal(0))
        assert money <= order.total_paid, order.tid


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_any_sequence_of_requests_keeps_the_ledger(sql_engine: Engine, demo_shop: Shop, data: st.DataObject) -> None:
    backend = SqlOrderBackend(sql_engine, demo_shop)
    backend.reset()
    script = data.draw(st.lists(requests(demo_shop), min_size=4, max_size=25), label="requests")
    last: dict[int, tuple[str, str, Refund | None, bool]] = {}  # conversation -> its last call
    first_result: dict[str, Order] = {}
    accepted = 0
    for n, req in enumerate(script):
        if req.retry and req.conversation in last:
            key, tid, refund, close = last[req.conversation]  # the same call again
        else:
            key, tid, close = f"c{req.conversation}:act-{n}", req.tid, req.close_order
            refund = None
            if req.op == "refund":
                order = backend.order(tid)
                assert order is not None
                refund = refund_of(order, req, f"R{n}")
        last[req.conversation] = (key, tid, refund, close)
        current = backend.order(tid)
        assert current is not None
        if refund is None:
            expect = key in first_result or current.status == "WAIT_BUYER_PAY"
            note(f"step {n}: {key} cancel {tid} -> {expect}")
        else:
            expect = key in first_result or oracle_allows(current, refund)
            note(f"step {n}: {key} {tid} {refund.type} {refund.status} {refund.items} {refund.amount} -> {expect}")
        try:
            if refund is None:
                result = backend.cancel_order(tid, key=key)
            else:
                result = backend.add_refund(tid, refund, close_order=close, key=key)
        except Conflict:
            assert not expect, (n, req)
            event("a request refused as a Conflict")
        else:
            assert expect, (n, req)
            accepted += 1
            first_result.setdefault(key, result)
            assert result == first_result[key]  # a retried key returns the first result
        invariants(sql_engine)
    note(f"accepted {accepted} of {len(script)}")
    event(f"steps: {'1-5' if len(script) <= 5 else '6-15' if len(script) <= 15 else '16-25'}")
