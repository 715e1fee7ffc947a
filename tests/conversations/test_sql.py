"""The SQL conversation store: messages survive restarts, statuses move as agents expect."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.conversations.sql import SqlConversationStore
from bot.errors import Conflict, NotFound, TellCustomer
from bot.storage.db import make_engine
from bot.turns import Card, Source, TurnResult

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def engine(sql_engine: Engine) -> Engine:
    return sql_engine


@pytest.fixture
def store(engine: Engine) -> SqlConversationStore:
    return SqlConversationStore(engine, tz=SHANGHAI)


# --- conversations -------------------------------------------------------------------------


def test_a_created_conversation_reads_back_in_the_shop_time_zone(
    store: SqlConversationStore,
) -> None:
    created = store.create("b01", T0, "c1")
    got = store.get("c1")
    assert got == created
    assert got.status == "bot" and got.state == {} and got.waiting_since is None
    assert got.created == T0 and got.created.utcoffset() == timedelta(hours=8)
    assert store.get("nope") is None


def test_a_conversation_id_is_used_once(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    with pytest.raises(Conflict):
        store.create("b02", T0, "c1")
    assert store.get("c1").buyer_id == "b01"


def test_buyer_owns_only_their_conversations(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    assert store.buyer_owns("c1", "b01") is True
    assert store.buyer_owns("c1", "b02") is False
    assert store.buyer_owns("nope", "b01") is False


def test_latest_for_is_the_newest_conversation_of_the_buyer(store: SqlConversationStore) -> None:
    store.create("b01", at(0), "old")
    store.create("b01", at(5), "new")
    store.create("b02", at(9), "other")
    assert store.latest_for("b01").id == "new"
    # A frozen clock creates several at the same instant: the last created wins.
    store.create("b03", at(0), "first")
    store.create("b03", at(0), "second")
    assert store.latest_for("b03").id == "second"
    assert store.latest_for("nobody") is None


def test_dialogue_state_round_trips(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    state = {"flow": "refund", "tid": "7001", "items": ["7001-1"], "pending": {"amount": "142.80"}}
    store.save_state("c1", state, at(1))
    got = store.get("c1")
    assert got.state == state and got.updated == at(1)
    with pytest.raises(NotFound):
        store.save_state("nope", state, at(1))


# --- status --------------------------------------------------------------------------------


def test_waiting_since_is_set_when_waiting_starts_and_kept_while_waiting(
    store: SqlConversationStore,
) -> None:
    store.create("b01", T0, "c1")
    waiting = store.set_status("c1", "waiting", at(1), summary="买家要求退款，订单7001")
    assert waiting.waiting_since == at(1)
    assert store.set_status("c1", "waiting", at(3)).waiting_since == at(1)
    assert store.get("c1").summary == "买家要求退款，订单7001"


def test_an_agent_takes_over_closes_and_the_bot_gets_it_back(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    store.set_status("c1", "waiting", at(1), summary="要人工")
    taken = store.set_status("c1", "agent", at(2), agent="alice")
    assert (taken.status, taken.agent, taken.waiting_since) == ("agent", "alice", None)
    closed = store.set_status("c1", "closed", at(3))
    assert (closed.status, closed.agent) == ("closed", "alice")
    back = store.set_status("c1", "bot", at(4))
    assert (back.status, back.agent, back.waiting_since) == ("bot", None, None)
    assert store.get("c1") == back
    assert back.summary == "要人工"


def test_set_status_refuses_unknown_conversations_and_statuses(
    store: SqlConversationStore,
) -> None:
    with pytest.raises(NotFound):
        store.set_status("nope", "waiting", T0)
    store.create("b01", T0, "c1")
    with pytest.raises(ValueError):
        store.set_status("c1", "sleeping", T0)  # type: ignore[arg-type]


def test_only_one_agent_can_claim_a_conversation(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    store.set_status("c1", "waiting", at(1))
    assert store.claim("c1", "alice", at(2)).agent == "alice"
    assert store.claim("c1", "alice", at(3)).agent == "alice"  # pressing twice is fine
    with pytest.raises(Conflict):
        store.claim("c1", "bob", at(3))
    assert store.get("c1").agent == "alice"
    with pytest.raises(NotFound):
        store.claim("nope", "bob", at(3))


def test_list_puts_waiting_first_longest_wait_first_then_recent(
    store: SqlConversationStore,
) -> None:
    for i, cid in enumerate(["a", "b", "c", "d", "e"]):
        store.create(f"buyer-{cid}", at(i), cid)
    store.set_status("b", "waiting", at(10))
    store.set_status("d", "waiting", at(11))
    store.set_status("c", "agent", at(12), agent="alice")
    store.add_message("a", "buyer", "在吗", at(13), "m1")  # a message makes it recent
    store.set_status("e", "closed", at(9))
    assert [c.id for c in store.list()] == ["b", "d", "a", "c", "e"]
    assert [c.id for c in store.list("waiting")] == ["b", "d"]
    assert [c.id for c in store.list("agent")] == ["c"]
    assert [c.id for c in store.list(limit=2)] == ["b", "d"]


def test_rating_is_one_to_five(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    store.rate("c1", 5, at(1))
    assert store.get("c1").rating == 5
    for bad in (0, 6):
        with pytest.raises(TellCustomer):
            store.rate("c1", bad, at(2))
    assert store.get("c1").rating == 5
    with pytest.raises(NotFound):
        store.rate("nope", 3, at(2))


# --- messages ------------------------------------------------------------------------------


def test_messages_are_numbered_in_order(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    store.create("b02", T0, "c2")
    m1 = store.add_message("c1", "buyer", "我的快递到哪了", at(1), "m1")
    store.add_message("c2", "buyer", "你好", at(1), "x1")
    m2 = store.add_message("c1", "bot", "亲，包裹在路上啦", at(1), "m2", turn_id="t1")
    m3 = store.add_message("c1", "agent", "我来帮您查", at(2), "m3", author="alice")
    assert [m.seq for m in (m1, m2, m3)] == [1, 2, 3]
    assert store.messages("c1") == [m1, m2, m3]
    assert store.messages("c1", after_seq=1) == [m2, m3]
    assert store.messages("c2")[0].seq == 1
    assert (m2.turn_id, m3.author) == ("t1", "alice")
    assert store.get("c1").updated == at(2)


def test_add_message_refuses_unknown_conversations_roles_and_reused_ids(
    store: SqlConversationStore,
) -> None:
    with pytest.raises(NotFound):
        store.add_message("nope", "buyer", "hi", T0, "m1")
    store.create("b01", T0, "c1")
    with pytest.raises(ValueError):
        store.add_message("c1", "robot", "hi", T0, "m1")  # type: ignore[arg-type]
    store.add_message("c1", "buyer", "hi", T0, "m1")
    with pytest.raises(Conflict):
        store.add_message("c1", "buyer", "again", T0, "m1")
    # The refused message took no number.
    assert store.add_message("c1", "buyer", "next", T0, "m2").seq == 2


def test_an_acknowledged_message_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'xiaoer.db'}"
    running = SqlConversationStore(make_engine(url), tz=SHANGHAI)
    running.create("b01", T0, "c1")
    sent = running.add_message("c1", "buyer", "帮我退款，订单7001", at(1), "m1")
    # A new process opens the same file while the first one is still running (or crashed).
    restarted = SqlConversationStore(make_engine(url), tz=SHANGHAI)
    assert restarted.messages("c1") == [sent]
    assert restarted.get("c1").updated == at(1)


def test_concurrent_messages_get_distinct_numbers(shared_engine: Engine) -> None:
    store = SqlConversationStore(shared_engine)
    store.create("b01", T0, "c1")
    start = threading.Barrier(8)
    errors: list[Exception] = []

    def send(i: int) -> None:
        start.wait()
        try:
            for j in range(5):
                store.add_message("c1", "buyer", f"{i}-{j}", T0, f"m{i}-{j}")
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [m.seq for m in store.messages("c1")] == list(range(1, 41))


# --- turns ---------------------------------------------------------------------------------


def turn(conversation_id: str, turn_id: str, **kw: object) -> TurnResult:
    return TurnResult(
        conversation_id=conversation_id,
        turn_id=turn_id,
        reply="亲，订单7001已为您申请退款142.80元",
        intent="refund",
        **kw,  # type: ignore[arg-type]
    )


def test_turns_round_trip_in_order(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    t1 = turn(
        "c1",
        "t1",
        action="refund.create",
        sources=[Source(id="r1", citation="退换货.md#七天无理由", title="七天无理由", score=0.8)],
        cards=[Card(kind="refund", data={"amount": "142.80"})],
        quick_replies=["确认", "再想想"],
        latency_ms=12.5,
    )
    t2 = turn("c1", "t2", handoff=True, status="waiting", flags=["handoff"])
    store.add_turn(t1, "m1", at(1))
    store.add_turn(t2, "m3", at(2))
    assert store.turns("c1") == [t1, t2]
    assert store.turns("nope") == []


def test_add_turn_refuses_unknown_conversations_and_repeats(store: SqlConversationStore) -> None:
    with pytest.raises(NotFound):
        store.add_turn(turn("nope", "t1"), "m1", T0)
    store.create("b01", T0, "c1")
    store.add_turn(turn("c1", "t1"), "m1", T0)
    with pytest.raises(Conflict):
        store.add_turn(turn("c1", "t1"), "m1", T0)
    assert len(store.turns("c1")) == 1
