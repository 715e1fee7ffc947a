"""Bounded reads of conversations: the last messages by LIMIT, the console queue by keyset
pages (the same order as the whole list), and index use checked with EXPLAIN."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from bot.conversations.paging import BadCursor, Cursor
from bot.conversations.sql import SqlConversationStore
from tests.scale.plans import captured, plan_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def store(sql_engine: Engine) -> SqlConversationStore:
    return SqlConversationStore(sql_engine, tz=SHANGHAI)


def _queue(store: SqlConversationStore) -> None:
    """Twenty conversations in every status, some changed at the same instant."""
    statuses = ["bot", "waiting", "agent", "closed", "waiting"]
    for i in range(20):
        cid = f"c{i:02d}"
        store.create(f"b{i % 3}", at(i), cid)
        store.add_message(cid, "buyer", f"第{i}位买家的问题", at(i), f"m{i}a")
        store.add_message(cid, "bot", f"给第{i}位的回复", at(i), f"m{i}b")
        status = statuses[i % len(statuses)]
        when = at(100 + (i % 4))  # ties on the sort keys: the row number breaks them
        if status == "agent":
            store.claim(cid, "agent1", when)
        elif status != "bot":
            store.set_status(cid, status, when)


def _all_pages(store: SqlConversationStore, status: Any, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = store.page(status, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen.extend(c.id for c in page.items)
        if page.next is None:
            return seen
        cursor = Cursor.decode(page.next.encode())  # the cursor survives its trip as text
    raise AssertionError("pages never ended")


@pytest.mark.parametrize("status", [None, "waiting", "bot", "agent", "closed"])
@pytest.mark.parametrize("limit", [1, 3, 8, 50])
def test_pages_follow_the_queue_order_without_gaps_or_repeats(
    store: SqlConversationStore, status: Any, limit: int
) -> None:
    _queue(store)
    expected = [c.id for c in store.list(status)]
    assert expected  # every status has conversations
    assert _all_pages(store, status, limit) == expected


def test_first_page_starts_with_the_longest_waiting(store: SqlConversationStore) -> None:
    _queue(store)
    first = store.page(limit=3)
    assert [c.status for c in first.items] == ["waiting"] * 3
    assert first.items[0].waiting_since == min(c.waiting_since for c in first.items)  # type: ignore[type-var]


def test_a_bad_cursor_is_refused() -> None:
    for bad in ["", "not-base64!", "eyJwIjoieCJ9", Cursor("waiting", at(1), at(1), 3).encode()[:-3]]:
        with pytest.raises(BadCursor):
            Cursor.decode(bad)


def test_recent_is_the_last_messages_oldest_first(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    for i in range(30):
        store.add_message("c1", "buyer" if i % 2 == 0 else "bot", f"消息{i}", at(i), f"m{i}")
    whole = store.messages("c1")
    assert store.recent("c1", 13) == whole[-13:]
    assert store.recent("c1", 100) == whole
    assert store.recent("c1", 0) == [] and store.recent("nope", 5) == []
    assert store.recent_lines("c1", 13) == [(m.role, m.text) for m in whole[-13:]]
    assert store.recent_lines("c1", 0) == [] and store.recent_lines("nope", 5) == []


def test_last_messages_are_the_newest_of_each(store: SqlConversationStore) -> None:
    _queue(store)
    store.create("b9", at(50), "empty")
    last = store.last_messages(["c03", "c07", "empty", "nope"])
    assert {k: v.text for k, v in last.items()} == {"c03": "给第3位的回复", "c07": "给第7位的回复"}


# --- EXPLAIN -------------------------------------------------------------------------------


def _uses_index(engine: Engine, plan: str) -> bool:
    if engine.dialect.name == "sqlite":
        scans = [line for line in plan.splitlines() if line.startswith("SCAN ")]
        # Sorting only the rows that tie on the index's order ("RIGHT PART") is fine.
        whole_sort = "TEMP B-TREE FOR ORDER BY" in plan
        return "USING" in plan and not whole_sort and not any("conv_" in s and "USING" not in s for s in scans)
    return "Index" in plan and "Seq Scan" not in plan


def test_paged_and_recent_queries_use_an_index(store: SqlConversationStore, sql_engine: Engine) -> None:
    _queue(store)
    with sql_engine.connect() as conn:
        if sql_engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
        conn.commit()
    first = store.page(limit=2)
    with captured(sql_engine) as statements:
        waiting_next = store.page(limit=2, cursor=first.next)
        store.page(limit=2, cursor=Cursor("others", updated=at(101), n=5))
        store.page("bot", limit=2)
        store.page("closed", limit=2, cursor=Cursor("others", updated=at(101), n=5))
        store.page("waiting", limit=2, cursor=waiting_next.next)
        store.recent("c01", 13)
        store.last_messages(["c01", "c02"])
    assert len(statements) >= 7
    for statement, parameters in statements:
        plan = plan_of(sql_engine, statement, parameters)
        assert _uses_index(sql_engine, plan), f"{statement}\n--\n{plan}"


def test_the_check_sees_a_query_without_index(store: SqlConversationStore, sql_engine: Engine) -> None:
    """The EXPLAIN check above can fail: a filter on an unindexed column is caught."""
    _queue(store)
    with captured(sql_engine) as statements:
        with sql_engine.connect() as conn:
            conn.execute(text("SELECT id FROM conv_conversations WHERE summary = 'x' ORDER BY rating"))
    statement, parameters = statements[-1]
    assert not _uses_index(sql_engine, plan_of(sql_engine, statement, parameters))
