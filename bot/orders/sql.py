"""The embedded order backend: the shop's ``orders.yaml`` seeded into SQL tables.

Each order is one JSON document (``Order.model_dump(mode="json")``: money as strings, so
``Decimal`` round-trips exactly; times with their offset) keyed by ``tid``, with the buyer
and creation time as columns for look-ups and ``seq`` keeping the order of ``orders.yaml``.
Every state change runs in one transaction guarded by an idempotency key: the key's row is
written first, so a retry — even a concurrent one — returns the first result and changes
nothing more. The backend checks existence and the one-open-refund-per-item invariant;
what is *allowed* is the flows' policy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.storage.db import UtcDateTime
from bot.errors import Conflict, NotFound
from bot.orders.backend import OrdersExport, Ticket
from bot.shop.models import OPEN_REFUND_STATUSES, Address, Buyer, Order, Refund, Shop
from bot.storage.db import Base

# Bump when the stored layout changes: an old database is then re-seeded at start-up.
_LAYOUT_VERSION = "1"

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

_TABLES = [orders_table, buyers_table, tickets_table, idempotency_table, meta_table]
_SEED_HASH = "seed_hash"


class SqlOrderBackend:
    """The order backend on SQLAlchemy: SQLite (a file or in memory) or PostgreSQL."""

    def __init__(self, engine: Engine, shop: Shop) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("SqlOrderBackend needs a sqlalchemy Engine")
        if not isinstance(shop, Shop):
            raise TypeError("SqlOrderBackend needs a loaded Shop")
        self._engine = engine
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
        with self._engine.connect() as conn:
            stored = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == _SEED_HASH)
            ).scalar()
        if stored == self._seed_hash:
            return False
        self.reset()
        return True

    def reset(self) -> None:
        """Drop every change (orders, tickets, idempotency keys) and re-seed, in one transaction."""
        with self._engine.begin() as conn:
            for table in _TABLES:
                conn.execute(delete(table))
            if self._order_rows:
                conn.execute(insert(orders_table), self._order_rows)
            if self._buyer_rows:
                conn.execute(insert(buyers_table), self._buyer_rows)
            conn.execute(insert(meta_table).values(key=_SEED_HASH, value=self._seed_hash))

    # --- reads -----------------------------------------------------------------------------

    def buyer(self, buyer_id: str) -> Buyer | None:
        with self._engine.connect() as conn:
            doc = conn.execute(
                select(buyers_table.c.doc).where(buyers_table.c.id == buyer_id)
            ).scalar()
        return Buyer.model_validate(doc) if doc is not None else None

    def buyers(self) -> list[Buyer]:
        with self._engine.connect() as conn:
            docs = conn.execute(select(buyers_table.c.doc).order_by(buyers_table.c.seq)).scalars()
            return [Buyer.model_validate(d) for d in docs]

    def order(self, tid: str) -> Order | None:
        with self._engine.connect() as conn:
            doc = conn.execute(select(orders_table.c.doc).where(orders_table.c.tid == tid)).scalar()
        return Order.model_validate(doc) if doc is not None else None

    def orders_of(self, buyer_id: str) -> list[Order]:
        """The buyer's orders, newest first."""
        o = orders_table.c
        with self._engine.connect() as conn:
            docs = conn.execute(
                select(o.doc)
                .where(o.buyer_id == buyer_id)
                .order_by(o.created.desc(), o.seq.desc())
            ).scalars()
            return [Order.model_validate(d) for d in docs]

    def export(self) -> OrdersExport:
        """Buyers and orders in seed order, tickets in the order they were added."""
        with self._engine.connect() as conn:
            buyers = conn.execute(select(buyers_table.c.doc).order_by(buyers_table.c.seq)).scalars()
            buyer_list = [Buyer.model_validate(d) for d in buyers]
            orders = conn.execute(select(orders_table.c.doc).order_by(orders_table.c.seq)).scalars()
            order_list = [Order.model_validate(d) for d in orders]
            tickets = conn.execute(
                select(tickets_table.c.doc).order_by(tickets_table.c.n)
            ).scalars()
            ticket_list = [Ticket.model_validate(d) for d in tickets]
        return OrdersExport(buyers=buyer_list, orders=order_list, tickets=ticket_list)

    def tickets(self, tid: str | None = None) -> list[Ticket]:
        stmt = select(tickets_table.c.doc).order_by(tickets_table.c.n)
        if tid is not None:
            stmt = stmt.where(tickets_table.c.tid == tid)
        with self._engine.connect() as conn:
            return [Ticket.model_validate(d) for d in conn.execute(stmt).scalars()]

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

        Raises :class:`NotFound` for an unknown order or item and :class:`Conflict` when an
        item already has an open refund or the refund id is taken.
        """

        def apply(conn: Connection) -> dict[str, Any]:
            order = _locked_order(conn, tid)
            unknown = [oid for oid in refund.items if order.item(oid) is None]
            if unknown:
                raise NotFound(f"订单 {tid} 里没有商品 {'、'.join(unknown)}")
            if any(r.id == refund.id for r in order.refunds):
                raise Conflict(f"售后单 {refund.id} 已存在")
            busy = sorted(
                {
                    oid
                    for r in order.refunds
                    if r.status in OPEN_REFUND_STATUSES
                    for oid in r.items
                    if oid in refund.items
                }
            )
            if busy:
                raise Conflict(f"商品 {'、'.join(busy)} 已有进行中的售后，请等处理完再申请")
            doc = order.model_dump(mode="json")
            doc["refunds"].append(refund.model_dump(mode="json"))
            if close_order:
                doc["status"] = "TRADE_CLOSED"
            return _save(conn, Order.model_validate(doc))

        return Order.model_validate(self._change("add_refund", tid, key, apply))

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
                    conn.execute(
                        insert(idempotency_table).values(key=key, op=op, target=target, result=None)
                    )
                    result = apply(conn)
                    conn.execute(
                        update(idempotency_table)
                        .where(idempotency_table.c.key == key)
                        .values(result=result)
                    )
                    return result
            except IntegrityError:
                # Another request with the same key committed between our look-up and insert:
                # the second attempt finds its result.
                if attempt:
                    raise
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
