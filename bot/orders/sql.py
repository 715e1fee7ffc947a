"""The embedded order backend: the shop's ``orders.yaml`` seeded into SQL tables.

Each order is one JSON document (``Order.model_dump(mode="json")``: money as strings, so
``Decimal`` round-trips exactly; times with their offset) keyed by ``tid``, with the buyer
and creation time as columns for look-ups and ``seq`` keeping the order of ``orders.yaml``.
Every state change runs in one transaction guarded by an idempotency key: the key's row is
written first, so a retry — even a concurrent one — returns the first result and changes
nothing more. What is *allowed* is the flows' policy; the backend checks existence and keeps
the refund ledger (:mod:`bot.orders.ledger`) whatever the conversations ask:

* in Python, on the order read under its row lock, before anything is written;
* in the database, as a backstop: ``order_ledger`` holds every item's paid, refunded and
  open money in whole 分 under CHECK constraints, and a refund takes its items with a
  conditional update that matches only free items. A violation there is a
  :class:`~bot.errors.Conflict`, never a retry of the idempotency path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.errors import Conflict, NotFound
from bot.ids import internal_id
from bot.orders import ledger
from bot.orders.backend import OrdersExport, Ticket
from bot.orders.ledger import Breach, ItemBalance
from bot.shop.models import Address, Buyer, Order, Refund, RefundStatus, Shipping, Shop
from bot.storage.db import Base, UtcDateTime, reader

# Bump when the stored layout changes: an old database is then re-seeded at start-up.
# 2: the refund ledger (order_ledger).
_LAYOUT_VERSION = "2"

orders_table = Table(
    "order_orders",
    Base.metadata,
    Column("tid", String(128), primary_key=True),
    Column("buyer_id", String(128), nullable=False, index=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("created", UtcDateTime, nullable=False),
    Column("doc", JSON, nullable=False),
)

buyers_table = Table(
    "order_buyers",
    Base.metadata,
    Column("id", String(128), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
)

tickets_table = Table(
    "order_tickets",
    Base.metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("tid", String(128), nullable=True, index=True),
    Column("buyer_id", String(128), nullable=False, index=True),
    Column("doc", JSON, nullable=False),
)

idempotency_table = Table(
    "order_idempotency",
    Base.metadata,
    Column("key", String(255), primary_key=True),
    Column("op", String(32), nullable=False),
    Column("target", String(128), nullable=False),
    Column("result", JSON, nullable=True),
)

meta_table = Table(
    "order_meta",
    Base.metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

ledger_table = Table(
    "order_ledger",
    Base.metadata,
    Column("tid", String(128), ForeignKey("order_orders.tid"), primary_key=True),
    Column("oid", String(128), primary_key=True),
    Column("paid_fen", Integer, nullable=False),
    Column("refunded_fen", Integer, nullable=False, default=0),
    Column("open_fen", Integer, nullable=False, default=0),
    Column("open_refund", String(128), nullable=True),  # the after-sale in progress
    Column("refunded_by", String(128), nullable=True),  # the SUCCESS refund or return
    CheckConstraint(
        "paid_fen >= 0 AND refunded_fen >= 0 AND open_fen >= 0", name="ck_order_ledger_not_negative"
    ),
    CheckConstraint("refunded_fen + open_fen <= paid_fen", name="ck_order_ledger_within_paid"),
    CheckConstraint(
        "open_refund IS NULL OR refunded_by IS NULL", name="ck_order_ledger_refunded_is_final"
    ),
    CheckConstraint("open_fen = 0 OR open_refund IS NOT NULL", name="ck_order_ledger_open_money"),
)

# The reads of every turn, built once: a statement built per call costs more in SQLAlchemy
# than the database takes to run it.
_BUYER = select(buyers_table.c.doc).where(buyers_table.c.id == bindparam("buyer_id"))
_ORDER = select(orders_table.c.doc).where(orders_table.c.tid == bindparam("tid"))
_ORDERS_OF = (
    select(orders_table.c.doc)
    .where(orders_table.c.buyer_id == bindparam("buyer_id"))
    .order_by(orders_table.c.created.desc(), orders_table.c.seq.desc())
)
_TICKETS = select(tickets_table.c.doc).order_by(tickets_table.c.n)
_TICKETS_OF = (
    select(tickets_table.c.doc)
    .where(tickets_table.c.tid == bindparam("tid"))
    .order_by(tickets_table.c.n)
)

# Children before parents: reset() deletes in this order.
_TABLES = [ledger_table, orders_table, buyers_table, tickets_table, idempotency_table, meta_table]
_SEED_HASH = "seed_hash"
_SEED_LOCK_KEY = 0x7869616F6572 + 1  # next to the migrations' advisory lock key
_NUMBER = "number:"  # + kind: the last short number handed out


class _KeyTaken(Exception):
    """A concurrent change with the same idempotency key committed first."""


class SqlOrderBackend:
    """The order backend on SQLAlchemy: SQLite (a file or in memory) or PostgreSQL."""

    def __init__(self, engine: Engine, shop: Shop) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("SqlOrderBackend needs a sqlalchemy Engine")
        if not isinstance(shop, Shop):
            raise TypeError("SqlOrderBackend needs a loaded Shop")
        broken = [f"order {o.tid}: {b}" for o in shop.orders for _, b in ledger.breaches_of(o)]
        if broken:
            raise ValueError("the seed orders break the refund ledger: " + "; ".join(broken))
        self._engine = engine
        self._read = reader(engine)  # read-only work: no transaction round trips
        # The seed rows are built once: reset() runs before every benchmark case.
        self._order_rows = [
            {
                "tid": o.tid,
                "buyer_id": o.buyer,
                "seq": i,
                "created": o.created,
                "doc": o.model_dump(mode="json"),
            }
            for i, o in enumerate(shop.orders)
        ]
        self._ledger_rows = [
            _ledger_row(o.tid, bal) for o in shop.orders for bal in ledger.ledger_of(o).values()
        ]
        self._buyer_rows = [
            {"id": b.id, "seq": i, "doc": b.model_dump(mode="json")}
            for i, b in enumerate(shop.buyers.values())
        ]
        seed = {
            "layout": _LAYOUT_VERSION,
            "buyers": [r["doc"] for r in self._buyer_rows],
            "orders": [r["doc"] for r in self._order_rows],
        }
        self._seed_hash = hashlib.sha256(
            json.dumps(seed, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        Base.metadata.create_all(engine, tables=_TABLES)

    @property
    def seed_hash(self) -> str:
        """sha256 of the seed (buyers and orders) this backend was built from."""
        return self._seed_hash

    # --- seeding ---------------------------------------------------------------------------

    def ensure_seeded(self) -> bool:
        """Seed an empty database, or re-seed one seeded from different ``orders.yaml``.

        Returns True when it (re-)seeded. A database already holding this seed keeps its
        changes (cancelled orders, refunds, tickets) across restarts.
        """
        with self._read.connect() as conn:
            stored = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == _SEED_HASH)
            ).scalar()
        if stored == self._seed_hash:
            return False
        with self._engine.begin() as conn:
            # Processes started together on a fresh database: one seeds, the others find it seeded.
            self._lock_seeding(conn)
            stored = conn.execute(select(meta_table.c.value).where(meta_table.c.key == _SEED_HASH)).scalar()
            if stored == self._seed_hash:
                return False
            self._reseed(conn)
        return True

    def reset(self) -> None:
        """Drop every change (orders, tickets, idempotency keys) and re-seed, in one transaction."""
        with self._engine.begin() as conn:
            self._lock_seeding(conn)
            self._reseed(conn)

    @staticmethod
    def _lock_seeding(conn: Connection) -> None:
        """Seeding is one at a time: PostgreSQL by a lock held to the end of the transaction;
        SQLite's single writer serialises it already."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK_KEY})

    def _reseed(self, conn: Connection) -> None:
        for table in _TABLES:
            conn.execute(delete(table))
        if self._order_rows:
            conn.execute(insert(orders_table), self._order_rows)
        if self._ledger_rows:
            conn.execute(insert(ledger_table), self._ledger_rows)
        if self._buyer_rows:
            conn.execute(insert(buyers_table), self._buyer_rows)
        conn.execute(insert(meta_table).values(key=_SEED_HASH, value=self._seed_hash))

    # --- reads -----------------------------------------------------------------------------

    def buyer(self, buyer_id: str) -> Buyer | None:
        with self._read.connect() as conn:
            doc = conn.execute(_BUYER, {"buyer_id": buyer_id}).scalar()
        return Buyer.model_validate(doc) if doc is not None else None

    def buyers(self) -> list[Buyer]:
        with self._read.connect() as conn:
            docs = conn.execute(select(buyers_table.c.doc).order_by(buyers_table.c.seq)).scalars()
            return [Buyer.model_validate(d) for d in docs]

    def order(self, tid: str) -> Order | None:
        with self._read.connect() as conn:
            doc = conn.execute(_ORDER, {"tid": tid}).scalar()
        return Order.model_validate(doc) if doc is not None else None

    def orders_of(self, buyer_id: str) -> list[Order]:
        """The buyer's orders, newest first."""
        with self._read.connect() as conn:
            docs = conn.execute(_ORDERS_OF, {"buyer_id": buyer_id}).scalars().all()
        return [Order.model_validate(d) for d in docs]

    def orders_in(self, statuses: Iterable[str], *, signed_between: tuple[datetime, datetime] | None = None) -> list[Order]:
        """Orders in one of ``statuses`` (in seed order), for scheduled work that looks at few
        of them; ``signed_between`` keeps those whose parcel was signed in that span."""
        o = orders_table.c
        stmt = select(o.doc).where(o.doc["status"].as_string().in_(list(statuses))).order_by(o.seq)
        if signed_between is not None:
            # ISO strings compare as text only within one offset: widen by a day, then compare times.
            lo, hi = signed_between
            signed = o.doc["shipping"]["signed_at"].as_string()
            stmt = stmt.where(signed >= (lo - timedelta(days=1)).isoformat(),
                              signed <= (hi + timedelta(days=1)).isoformat())
        with self._read.connect() as conn:
            found = [Order.model_validate(d) for d in conn.execute(stmt).scalars()]
        if signed_between is None:
            return found
        lo, hi = signed_between
        return [x for x in found if x.shipping and x.shipping.signed_at and lo <= x.shipping.signed_at <= hi]

    def export(self) -> OrdersExport:
        """Buyers and orders in seed order, tickets in the order they were added."""
        with self._read.connect() as conn:
            buyers = conn.execute(select(buyers_table.c.doc).order_by(buyers_table.c.seq)).scalars()
            buyer_list = [Buyer.model_validate(d) for d in buyers]
            orders = conn.execute(select(orders_table.c.doc).order_by(orders_table.c.seq)).scalars()
            order_list = [Order.model_validate(d) for d in orders]
            tickets = conn.execute(
                select(tickets_table.c.doc).order_by(tickets_table.c.n)
            ).scalars()
            ticket_list = [Ticket.model_validate(d) for d in tickets]
        return OrdersExport(buyers=buyer_list, orders=order_list, tickets=ticket_list)

    def ledger(self, tid: str) -> dict[str, ItemBalance]:
        """The stored ledger rows of order ``tid`` by item (empty for an unknown order)."""
        t = ledger_table.c
        with self._read.connect() as conn:
            rows = conn.execute(select(ledger_table).where(t.tid == tid).order_by(t.oid)).all()
        return {
            r.oid: ItemBalance(
                oid=r.oid, paid=r.paid_fen, refunded=r.refunded_fen, open=r.open_fen,
                open_refund=r.open_refund, refunded_by=r.refunded_by,
            )
            for r in rows
        }

    def tickets(self, tid: str | None = None) -> list[Ticket]:
        with self._read.connect() as conn:
            if tid is None:
                docs = conn.execute(_TICKETS).scalars().all()
            else:
                docs = conn.execute(_TICKETS_OF, {"tid": tid}).scalars().all()
        return [Ticket.model_validate(d) for d in docs]

    # --- state changes ---------------------------------------------------------------------

    def cancel_order(self, tid: str, *, key: str) -> Order:
        """WAIT_BUYER_PAY → TRADE_CLOSED; :class:`Conflict` from any other status."""

        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            if order.status != "WAIT_BUYER_PAY":
                raise Conflict(f"订单 {tid} 已不是待付款状态，不能直接取消")
            return _save(conn, order.model_copy(update={"status": "TRADE_CLOSED"}))

        return Order.model_validate(self._change("cancel_order", tid, key, apply))

    def add_refund(self, tid: str, refund: Refund, *, close_order: bool, key: str) -> Order:
        """Append an after-sale record; ``close_order`` also sets TRADE_CLOSED.

        Raises :class:`NotFound` for an unknown order or item and :class:`Conflict` when the
        refund id is taken or the record would break the refund ledger: an item with an
        after-sale in progress, an item already refunded, or more money back than was paid.
        """

        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            unknown = [oid for oid in refund.items if order.item(oid) is None]
            if unknown:
                raise NotFound(f"订单 {tid} 里没有您说的商品")
            if any(r.id == refund.id for r in order.refunds):
                raise Conflict(f"售后单 {refund.id} 已存在")
            broken = ledger.admit(order, refund)
            if broken:
                raise Conflict(_refusal(broken[0], order))
            _take_items(conn, order, refund)
            doc = order.model_dump(mode="json")
            doc["refunds"].append(refund.model_dump(mode="json"))
            if close_order:
                doc["status"] = "TRADE_CLOSED"
            return _save(conn, Order.model_validate(doc))

        return Order.model_validate(self._change("add_refund", tid, key, apply))

    def next_number(self, kind: str) -> int:
        """The next short number of ``kind`` (``refund``, ``ticket``): 1, 2, 3 … per store,
        never handed out twice by any process: the counter row moves by compare-and-set."""
        key = f"{_NUMBER}{kind}"
        for _ in range(100):
            try:
                with self._engine.begin() as conn:
                    last = conn.execute(select(meta_table.c.value).where(meta_table.c.key == key)).scalar()
                    if last is None:
                        conn.execute(insert(meta_table).values(key=key, value="1"))
                        return 1
                    n = int(last) + 1
                    moved = conn.execute(
                        update(meta_table)
                        .where(and_(meta_table.c.key == key, meta_table.c.value == last))
                        .values(value=str(n))
                    ).rowcount
                    if moved == 1:
                        return n
            except IntegrityError:  # another process made the counter first
                pass
        raise Conflict("编号分配繁忙，请稍后再试")

    def update_address(self, tid: str, address: Address, *, key: str) -> Order:
        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            return _save(conn, order.model_copy(update={"address": address.model_copy()}))

        return Order.model_validate(self._change("update_address", tid, key, apply))

    def add_ticket(self, ticket: Ticket, *, key: str) -> Ticket:
        """Store a staff ticket; :class:`NotFound` when it names an unknown order."""

        def apply(conn: Connection) -> dict[str, Any]:
            if ticket.tid is not None:
                found = conn.execute(
                    select(orders_table.c.tid).where(orders_table.c.tid == ticket.tid)
                ).first()
                if found is None:
                    raise NotFound(f"没有订单 {ticket.tid}")
            taken = conn.execute(
                select(tickets_table.c.n).where(tickets_table.c.id == ticket.id)
            ).first()
            if taken is not None:
                raise Conflict(f"工单 {ticket.id} 已存在")
            doc = ticket.model_dump(mode="json")
            conn.execute(
                insert(tickets_table).values(
                    id=ticket.id, tid=ticket.tid, buyer_id=ticket.buyer, doc=doc
                )
            )
            return doc

        return Ticket.model_validate(self._change("add_ticket", ticket.id, key, apply))

    def ship_order(self, tid: str, shipping: Shipping, *, key: str) -> Order:
        """WAIT_SELLER_SEND_GOODS → WAIT_BUYER_CONFIRM_GOODS; :class:`Conflict` from any other."""

        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            if order.status != "WAIT_SELLER_SEND_GOODS":
                raise Conflict(f"订单 {tid} 不是待发货状态，不能发货")
            shipped = order.model_copy(
                update={"status": "WAIT_BUYER_CONFIRM_GOODS", "shipping": shipping.model_copy()}
            )
            return _save(conn, Order.model_validate(shipped.model_dump()))

        return Order.model_validate(self._change("ship_order", tid, key, apply))

    def move_refund(
        self, tid: str, refund_id: str, *, expect: frozenset[str], to: RefundStatus, key: str
    ) -> Order:
        """Move after-sale ``refund_id`` of order ``tid`` from one of ``expect`` to ``to``.

        The ledger follows in the same transaction: money that goes back (``SUCCESS`` of a
        refund or return) settles the items, a refusal, a closing or a finished exchange frees
        them; an order whose every item went back is closed. :class:`Conflict` when the record
        is no longer in an ``expect`` status (someone moved it first) or the ledger refuses.
        """

        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            refund = next((r for r in order.refunds if r.id == refund_id), None)
            if refund is None:
                raise NotFound(f"订单 {tid} 没有售后单 {refund_id}")
            if refund.status not in expect:
                raise Conflict(f"售后单 {refund_id} 的状态已变为 {refund.status}")
            moved = refund.model_copy(update={"status": to})
            doc = order.model_dump(mode="json")
            doc["refunds"] = [
                moved.model_dump(mode="json") if r.id == refund_id else r.model_dump(mode="json")
                for r in order.refunds
            ]
            after = Order.model_validate(doc)
            if ledger.breaches_of(after):
                raise Conflict(_refusal(ledger.breaches_of(after)[0][1]))
            if refund.is_open and not moved.is_open:
                _settle_items(conn, order, moved)
            balances = ledger.ledger_of(after)
            if moved.status == "SUCCESS" and ledger.is_money(moved) and all(
                b.refunded_by is not None for b in balances.values()
            ):
                after = after.model_copy(update={"status": "TRADE_CLOSED"})
            return _save(conn, after)

        return Order.model_validate(self._change("move_refund", f"{tid}:{refund_id}", key, apply))

    def close_ticket(self, ticket_id: str, note: str, at: datetime, *, key: str) -> Ticket:
        """An open ticket → done with ``note``; :class:`Conflict` when it is already done."""

        def apply(conn: Connection) -> dict[str, Any]:
            doc = conn.execute(
                select(tickets_table.c.doc).where(tickets_table.c.id == ticket_id).with_for_update()
            ).scalar()
            if doc is None:
                raise NotFound(f"没有工单 {ticket_id}")
            ticket = Ticket.model_validate(doc)
            if ticket.status != "open":
                raise Conflict(f"工单 {ticket_id} 已经关闭")
            closed = ticket.model_copy(update={"status": "done", "closed_at": at, "closed_note": note})
            out = closed.model_dump(mode="json")
            conn.execute(update(tickets_table).where(tickets_table.c.id == ticket_id).values(doc=out))
            return out

        return Ticket.model_validate(self._change("close_ticket", ticket_id, key, apply))

    def _change(
        self, op: str, target: str, key: str, apply: Callable[[Connection], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run ``apply`` once per idempotency ``key``; a repeated key returns the first result."""
        if not key:
            raise ValueError("a state change needs an idempotency key")
        for attempt in range(2):
            try:
                with self._engine.begin() as conn:
                    done = conn.execute(
                        select(
                            idempotency_table.c.op,
                            idempotency_table.c.target,
                            idempotency_table.c.result,
                        ).where(idempotency_table.c.key == key)
                    ).first()
                    if done is not None:
                        if (done.op, done.target) != (op, target):
                            raise Conflict("这个操作编号已用于另一项变更")
                        result: dict[str, Any] = done.result
                        return result
                    # Claiming the key first takes the write lock, so the read-modify-write in
                    # ``apply`` cannot interleave with another change.
                    try:
                        conn.execute(
                            insert(idempotency_table).values(
                                key=key, op=op, target=target, result=None
                            )
                        )
                    except IntegrityError as exc:
                        raise _KeyTaken from exc
                    result = apply(conn)
                    conn.execute(
                        update(idempotency_table)
                        .where(idempotency_table.c.key == key)
                        .values(result=result)
                    )
                    return result
            except _KeyTaken:
                # Another request with the same key committed between our look-up and insert:
                # the second attempt finds its result. Only the key's own insert lands here;
                # an IntegrityError inside ``apply`` (a ledger CHECK) is that change's Conflict.
                if attempt:
                    raise Conflict("这个操作正在处理中，请稍后再试") from None
        raise AssertionError("unreachable")


def _locked_order(conn: Connection, tid: str) -> Order:
    doc = conn.execute(
        select(orders_table.c.doc).where(orders_table.c.tid == tid).with_for_update()
    ).scalar()
    if doc is None:
        raise NotFound(f"没有找到订单 {tid}")
    return Order.model_validate(doc)


def _save(conn: Connection, order: Order) -> dict[str, Any]:
    doc = order.model_dump(mode="json")
    conn.execute(update(orders_table).where(orders_table.c.tid == order.tid).values(doc=doc))
    return doc


def _ledger_row(tid: str, bal: ItemBalance) -> dict[str, Any]:
    return {
        "tid": tid, "oid": bal.oid, "paid_fen": bal.paid, "refunded_fen": bal.refunded,
        "open_fen": bal.open, "open_refund": bal.open_refund, "refunded_by": bal.refunded_by,
    }


def _take_items(conn: Connection, order: Order, refund: Refund) -> None:
    """Record ``refund`` in ``order_ledger``: each item must still be free there, and the
    CHECK constraints hold the money; either failing is a :class:`Conflict`."""
    if not ledger.holds_item(refund):
        return  # a refused or closed record takes nothing
    t = ledger_table.c
    for oid, share in ledger.shares(order, refund).items():
        if refund.is_open:
            values: dict[str, Any] = {"open_refund": refund.id, "open_fen": t.open_fen + share}
        elif ledger.is_money(refund):
            values = {"refunded_by": refund.id, "refunded_fen": t.refunded_fen + share}
        else:  # a finished exchange moves no money but needs the item free all the same
            values = {"open_fen": t.open_fen}
        stmt = (
            update(ledger_table)
            .where(and_(
                t.tid == order.tid, t.oid == oid, t.open_refund.is_(None), t.refunded_by.is_(None)
            ))
            .values(**values)
        )
        try:
            taken = conn.execute(stmt).rowcount
        except IntegrityError as exc:
            raise Conflict("退款金额超过了商品的实付金额，这次没有办理") from exc
        if taken != 1:
            raise Conflict("这件商品已经退过款或有进行中的售后，不能重复申请")


def _settle_items(conn: Connection, order: Order, moved: Refund) -> None:
    """Free the items the open record ``moved`` held in ``order_ledger``: its money goes back
    (``SUCCESS`` refund or return) or is released (refused, closed, a finished exchange).
    Each item must still be held by this very record; the CHECK constraints hold the money."""
    t = ledger_table.c
    settles = moved.status == "SUCCESS" and ledger.is_money(moved)
    for oid, share in ledger.shares(order, moved).items():
        values: dict[str, Any] = {"open_refund": None, "open_fen": t.open_fen - share}
        if settles:
            values.update(refunded_by=moved.id, refunded_fen=t.refunded_fen + share)
        stmt = (
            update(ledger_table)
            .where(and_(t.tid == order.tid, t.oid == oid, t.open_refund == moved.id,
                        t.refunded_by.is_(None)))
            .values(**values)
        )
        try:
            taken = conn.execute(stmt).rowcount
        except IntegrityError as exc:
            raise Conflict("退款金额超过了商品的实付金额，这次没有办理") from exc
        if taken != 1:
            raise Conflict("这件商品的售后记录与账目不一致，这次没有办理")


def _refusal(breach: Breach, order: Order) -> str:
    """The buyer-safe reason for a refused record (no item ids; the record in the way by its
    short number, or by the shop's own id)."""
    other = next((r for r in order.refunds if r.id == breach.other), None)
    ref = "" if other is None or (other.no is None and internal_id(other.id)) else (
        f"（售后单 {other.no if other.no is not None else other.id}）")
    if breach.kind == "refunded":
        return f"这件商品已经退过款了{ref}，不能重复申请"
    if breach.kind == "open":
        return f"这件商品已有进行中的售后{ref}，请等处理完再申请"
    return "退款金额超过了商品的实付金额，这次没有办理"
