"""After-sales across conversations of one buyer, on the demo shop and a real SQLite file:
an item is refunded once, a refunded or busy item is explained rather than offered again,
and a race lost at the moment of the change is a polite reply that changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager, FlowOutcome
from bot.ids import IdProvider, SequentialIds
from bot.orders import ledger
from bot.orders.sql import SqlOrderBackend
from bot.router.router import Router, build_router
from bot.shop import Shop
from bot.shop.models import Order, Refund
from bot.storage.db import create_all, make_engine

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
ATTACK = "订单7007的袜子我不要了，退款"
AFTERSALE_ACTIONS = {"refund.create", "return.create", "exchange.create"}
# Requests of two buyers: b02 has two unshipped orders, b13 two signed ones.
SAYINGS = {
    "b02": [ATTACK, "7007的托特包不要了 退款", "7007退款", "取消订单7007", "7006不要了 退款"],
    "b13": ["7037里的棒球帽不想要了，退货", "7037的衬衫外套不想要了 退货", "7037退货",
            "7037的条纹衬衫换成L码", "7038的T恤质量有问题 开线了 退货", "7037的棒球帽换成黑色"],
}
TIDS = {"b02": ["7006", "7007"], "b13": ["7037", "7038"]}


@pytest.fixture(scope="module")
def router(demo_shop: Shop) -> Router:
    return build_router(demo_shop)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(e)
    yield e
    e.dispose()


@pytest.fixture
def backend(engine: Engine, demo_shop: Shop) -> SqlOrderBackend:
    b = SqlOrderBackend(engine, demo_shop)
    b.ensure_seeded()
    return b


def manager(shop: Shop, orders: Any, router: Router, ids: IdProvider | None = None) -> DialogueManager:
    return DialogueManager(shop, orders, router, FrozenClock(NOW), ids or SequentialIds())


def all_oids(shop: Shop) -> set[str]:
    return {i.oid for o in shop.orders for i in o.items}


def assert_buyer_facing(out: FlowOutcome, shop: Shop) -> None:
    """A reply in Chinese that shows no internal item id, and no fail-safe handover."""
    assert out.reply and not out.handoff
    assert not [oid for oid in all_oids(shop) if oid in out.reply], out.reply


def assert_ledger_holds(backend: SqlOrderBackend, tids: list[str]) -> None:
    for tid in tids:
        order = backend.order(tid)
        assert order is not None
        assert ledger.breaches_of(order) == [], (tid, order.refunds)
        stored = backend.ledger(tid)
        assert stored == ledger.ledger_of(order)
        assert all(0 <= b.refunded + b.open <= b.paid for b in stored.values())
        back = sum((r.amount for r in order.refunds if r.status == "SUCCESS" and r.type != "EXCHANGE"), Decimal(0))
        assert back <= order.total_paid


def socks_refunds(order: Order | None) -> list[Refund]:
    assert order is not None
    return [r for r in order.refunds if "7007-1" in r.items and r.status == "SUCCESS" and r.type != "EXCHANGE"]


# --- the five-conversation attack, and explanations instead of offers ------------------------


def test_five_conversations_refund_the_socks_once(demo_shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(demo_shop, backend, router)
    asks = [dm.handle({}, "b02", ATTACK) for _ in range(5)]  # five summaries before any yes
    assert all("58.50" in a.reply and a.state["pending"]["kind"] == "refund" for a in asks)
    yeses = [dm.handle(a.state, "b02", "确认") for a in asks]
    assert [y.action for y in yeses] == ["refund.create", None, None, None, None]
    for late in yeses[1:]:
        assert_buyer_facing(late, demo_shop)
        assert "已经退过款" in late.reply and "没有提交" in late.reply
        assert late.state["pending"] is None
    refunds = socks_refunds(backend.order("7007"))
    assert len(refunds) == 1 and refunds[0].amount == Decimal("58.50")
    assert_ledger_holds(backend, ["7007"])


def test_asking_again_after_a_refund_is_told_it_was_refunded(demo_shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(demo_shop, backend, router)
    ask = dm.handle({}, "b02", ATTACK)
    dm.handle(ask.state, "b02", "确认")
    again = dm.handle({}, "b02", ATTACK)
    assert_buyer_facing(again, demo_shop)
    assert "已经退过款" in again.reply and "售后单 1" in again.reply and "58.50" in again.reply
    assert again.state["pending"] is None and again.quick_replies == []
    whole = dm.handle({}, "b02", "7007退款")  # the rest of the order is still offered, and says so
    assert "79.00" in whole.reply and "137.50" not in whole.reply
    assert "纯棉中筒袜" in whole.reply and "这次不包含" in whole.reply


def test_a_busy_item_gets_no_exchange_and_a_returned_one_nothing_more(demo_shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(demo_shop, backend, router)
    ask = dm.handle({}, "b13", "7037里的棒球帽不想要了，退货")
    assert dm.handle(ask.state, "b13", "确认").action == "return.create"
    busy = dm.handle({}, "b13", "7037的棒球帽换成黑色")
    assert_buyer_facing(busy, demo_shop)
    assert "进行中的售后" in busy.reply and busy.state["pending"] is None
    # The shop records a finished return of the corduroy jacket: its money went back, so it
    # gets neither an exchange nor another return.
    done = Refund(id="R-done", type="RETURN_REFUND", status="SUCCESS", items=["7037-1"],
                  amount=Decimal("153.30"), created=NOW)
    backend.add_refund("7037", done, close_order=False, key="seller:R-done")
    for text, what in (("7037的衬衫外套换成黑色", "换货"), ("7037的衬衫外套不想要了 退货", "退货")):
        out = dm.handle({}, "b13", text)
        assert_buyer_facing(out, demo_shop)
        assert "已经退过款" in out.reply and what in out.reply, out.reply
    assert_ledger_holds(backend, ["7037"])


# --- a race lost between this turn's read and the change -------------------------------------


class RivalFirst:
    """The order backend of this conversation, except that just before its refund is written,
    a rival conversation (with its own engine, as another process) says yes first."""

    def __init__(self, inner: SqlOrderBackend, rival: DialogueManager, rival_state: dict[str, Any]) -> None:
        self.inner = inner
        self.rival = rival
        self.rival_state = rival_state
        self.rival_outcome: FlowOutcome | None = None

    def add_refund(self, tid: str, refund: Refund, *, close_order: bool, key: str) -> Order:
        if self.rival_outcome is None:
            self.rival_outcome = self.rival.handle(self.rival_state, "b02", "确认")
        return self.inner.add_refund(tid, refund, close_order=close_order, key=key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_refund_lost_to_a_rival_at_the_last_moment_is_a_polite_no(
    demo_shop: Shop, backend: SqlOrderBackend, engine: Engine, router: Router
) -> None:
    ids = SequentialIds()
    rival_backend = SqlOrderBackend(make_engine(str(engine.url)), demo_shop)
    rival = manager(demo_shop, rival_backend, router, ids)
    rival_ask = rival.handle({}, "b02", ATTACK)
    racing = RivalFirst(backend, rival, rival_ask.state)
    dm = manager(demo_shop, racing, router, ids)
    ask = dm.handle({}, "b02", ATTACK)
    before = backend.export()

    lost = dm.handle(ask.state, "b02", "确认")

    assert racing.rival_outcome is not None and racing.rival_outcome.action == "refund.create"
    assert lost.action is None and lost.intent == "confirm"
    assert_buyer_facing(lost, demo_shop)
    assert "已经退过款" in lost.reply and "没有提交" in lost.reply
    assert lost.state["pending"] is None
    assert [c.kind for c in lost.cards] == ["refund"]  # the rival's refund, for the buyer to see
    after = backend.order("7007")
    assert len(socks_refunds(after)) == 1
    # Nothing but the rival's refund changed.
    rest = [o for o in before.orders if o.tid != "7007"]
    assert [o for o in backend.export().orders if o.tid != "7007"] == rest


def test_yeses_racing_in_threads_refund_once_and_answer_everyone(demo_shop: Shop, engine: Engine, router: Router) -> None:
    url = str(engine.url)
    ids = SequentialIds()
    seeded = SqlOrderBackend(engine, demo_shop)
    seeded.ensure_seeded()
    engines = [make_engine(url) for _ in range(6)]
    managers = [manager(demo_shop, SqlOrderBackend(e, demo_shop), router, ids) for e in engines]
    asks = [m.handle({}, "b02", ATTACK) for m in managers]
    start = threading.Barrier(len(managers))
    outs: list[Any] = [None] * len(managers)

    def confirm(i: int) -> None:
        start.wait()
        try:
            outs[i] = managers[i].handle(asks[i].state, "b02", "确认")
        except Exception as exc:  # collected and asserted on below
            outs[i] = exc

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(len(managers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()

    assert all(isinstance(o, FlowOutcome) for o in outs), outs
    assert sorted(o.action or "" for o in outs) == [""] * 5 + ["refund.create"]
    for o in outs:
        assert_buyer_facing(o, demo_shop)
        if o.action is None:
            assert "已经退过款" in o.reply and "没有提交" in o.reply
    assert len(socks_refunds(seeded.order("7007"))) == 1
    assert_ledger_holds(seeded, ["7007"])


# --- property: any sequence of turns across conversations --------------------------------------


@st.composite
def turns(draw: st.DrawFn) -> tuple[str, int, str]:
    """A request, a yes or a no, in one of two conversations of one of the two buyers."""
    buyer = draw(st.sampled_from(sorted(SAYINGS)))
    conversation = draw(st.integers(0, 1))
    kind = draw(st.sampled_from(["ask", "ask", "yes", "yes", "no"]))
    if kind == "ask":
        text = draw(st.sampled_from(SAYINGS[buyer]))
    else:
        text = draw(st.sampled_from(["确认", "好的"] if kind == "yes" else ["不用了"]))
    return buyer, conversation, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=st.lists(turns(), min_size=8, max_size=24))
def test_any_turns_across_conversations_keep_the_ledger(
    demo_shop: Shop, backend: SqlOrderBackend, router: Router, script: list[tuple[str, int, str]]
) -> None:
    backend.reset()
    dm = manager(demo_shop, backend, router)
    states: dict[tuple[str, int], dict[str, Any]] = {}
    tids = [t for ts in TIDS.values() for t in ts]
    created = 0
    for buyer, conversation, text in script:
        out = dm.handle(states.get((buyer, conversation), {}), buyer, text)
        states[(buyer, conversation)] = out.state
        note(f"{buyer}#{conversation} {text!r} -> {out.action} {(out.reply or '')[:60]!r}")
        assert_buyer_facing(out, demo_shop)
        created += out.action in AFTERSALE_ACTIONS
        if "没有提交" in (out.reply or ""):
            event("a yes refused: the items were taken by another conversation")
        if "已经退过款" in (out.reply or "") or "进行中的售后" in (out.reply or ""):
            event("told the item was refunded or busy")
        assert_ledger_holds(backend, tids)
    # Every after-sale the buyer was told about exists, and no other.
    seeded = {o.tid: len(o.refunds) for o in demo_shop.orders}
    new = sum(len(o.refunds) - seeded[o.tid] for o in backend.export().orders)
    assert new == created
    event(f"after-sales created: {min(created, 4)}{'+' if created >= 4 else ''}")
