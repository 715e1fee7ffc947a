"""Every query of a buyer turn, of the assist desk and of the console queue reads through an
index, and reads a bounded part of the conversation: plans checked with ``EXPLAIN QUERY PLAN``
(SQLite) and ``EXPLAIN`` (PostgreSQL, when the tests have one).

Using an index is not enough: every message of a conversation read by the index on
conversation and number is an index seek, yet grows with the conversation. So each read of a
table with rows per message or per draft is also run as ``SELECT count(*)`` over it, in a
conversation far longer than the bound: none may return more than the drafter's history.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bot.clock import FrozenClock
from bot.config import Settings
from bot.conversations.sql import SqlConversationStore
from bot.drafting.pipeline import Draft
from bot.engine import HISTORY_TURNS
from bot.ids import SequentialIds
from bot.services import build_services
from bot.suggestions.service import SuggestionService
from bot.suggestions.sql import pending_counts
from tests.scale.plans import captured, plan_of

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
GROWING = ("conv_messages", "sugg_suggestions")  # tables with rows per message or per turn
OURS = ("conv_conversations", "conv_messages", "conv_turns", "sugg_suggestions")
KINDS = ("SELECT", "UPDATE", "DELETE")  # reads and updates (inserts have no plan)
BOUND = HISTORY_TURNS * 2 + 1  # the drafter's history: the most rows a turn may read of one


def rows_of(engine: Engine, statement: str, parameters: Any) -> int:
    """How many rows a read returns (0 for an update)."""
    if not statement.lstrip().upper().startswith("SELECT"):
        return 0
    with engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.execute(f"SELECT count(*) FROM ({statement}) AS counted", parameters)
        n = int(cur.fetchone()[0])
        conn.rollback()
        return n


def too_many(engine: Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """The reads of a growing table that return more rows than the drafter's history."""
    return [
        f"{n} rows: {s}" for s, p in statements
        if any(t in s for t in GROWING) and (n := rows_of(engine, s, p)) > BOUND
    ]


def problems(engine: Engine, statement: str, plan: str, *, queue: bool = False) -> list[str]:
    """What is wrong with ``plan``: a table read whole, or a sort of every match for a LIMIT.
    ``queue``: the console's page may walk the conversations' queue index in order (it stops
    at its ``LIMIT``)."""
    limited = re.search(r"\bLIMIT\b", statement, re.IGNORECASE) is not None
    found = []
    if engine.dialect.name == "sqlite":
        for line in plan.splitlines():
            line = line.strip()
            # Sorting what is returned anyway is its own size; sorting every match to keep a
            # few (a LIMIT) is not. Sorting ties of the index's order ("RIGHT PART") is fine.
            if "TEMP B-TREE FOR ORDER BY" in line and "RIGHT PART" not in line and limited:
                found.append(f"sorts every match for a LIMIT: {line}")
            m = re.match(r"(SCAN|SEARCH) (\w+)(.*)", line)
            if not m or m.group(2) not in OURS:
                continue
            kind, table, rest = m.groups()
            if kind == "SCAN" and not (queue and table == "conv_conversations" and "USING" in rest and limited):
                found.append(f"reads all of {table}: {line}")
        return found
    lines = plan.splitlines()
    for i, line in enumerate(lines):
        if "Seq Scan" in line:
            found.append(f"reads a whole table: {line.strip()}")
        node = re.search(r"(Index Scan|Index Only Scan|Bitmap Heap Scan)(?: Backward)?(?: using \w+)? on (\w+)", line)
        if not node or node.group(2) not in OURS:
            continue
        table = node.group(2)
        detail = " ".join(lines[i + 1 : i + 4])
        if "Cond:" not in detail and not (queue and table == "conv_conversations" and limited):
            found.append(f"walks all of an index of {table}: {line.strip()}")
    return found


def _draft(text_: str = "亲，这款是纯棉的哦～", passed: bool = True) -> Draft:
    return Draft(text=text_, citations=[], facts={"question": "什么面料"}, flags=[] if passed else ["price"],
                 drafter="template", passed=passed)


# --- the store and the desk's queries, on every test database ------------------------------


def test_the_store_reads_of_a_turn_are_indexed_and_bounded(sql_engine: Engine) -> None:
    clock, ids = FrozenClock(NOW), SequentialIds()
    store = SqlConversationStore(sql_engine)
    suggestions = SuggestionService(sql_engine, clock, ids)
    for c in range(3):
        cid = f"c{c}"
        store.create("b01", NOW, cid)
        for i in range(30):
            store.add_message(cid, "buyer", f"问题{i}", NOW, f"m{c}-{i}b")
            store.add_message(cid, "bot", f"回答{i}", NOW, f"m{c}-{i}r", turn_id=f"t{c}-{i}")
            suggestions.create(cid, f"t{c}-{i}", "product_info", _draft(), auto_sent=i % 3 != 0,
                               hold_at=NOW + timedelta(seconds=30), due_at=NOW + timedelta(minutes=3))
    with captured(sql_engine, KINDS) as statements:
        # What a turn and the desk do (engine: open, history, close; desk: resume, timers).
        store.get("c1")
        store.add_message("c1", "buyer", "有别的颜色吗", NOW, "m-new")
        store.recent_lines("c1", 13)
        store.since_buyer("c1")
        store.last_buyer_message("c1")
        store.save_state("c1", {"engine": {"turns": 31}}, NOW)
        store.set_status("c1", "waiting", NOW)
        suggestions.list(status="pending", conversation_id="c1", limit=1)
        suggestions.settle("c1", holds_only=True)
    assert len(statements) >= 10
    assert not too_many(sql_engine, statements)
    with captured(sql_engine, KINDS) as more:
        # The desk's tick (what is due, however many) and the console queue's first page.
        suggestions.holds_due(NOW + timedelta(minutes=1))
        suggestions.drafts_due(NOW + timedelta(minutes=5))
        page = store.page(limit=2)
        store.last_messages([c.id for c in page.items])
        pending_counts(sql_engine, [c.id for c in page.items])
    for statement, parameters in statements + more:
        plan = plan_of(sql_engine, statement, parameters)
        assert not problems(sql_engine, statement, plan, queue="conv_conversations.updated" in statement
                            or "waiting_since" in statement), f"{statement}\n--\n{plan}"


def test_the_check_catches_a_scan_and_a_whole_conversation(sql_engine: Engine) -> None:
    """The checks above can fail: an unindexed filter, and the whole conversation read by
    the index on conversation and number (what the desk did before the marker)."""
    store = SqlConversationStore(sql_engine)
    SuggestionService(sql_engine, FrozenClock(NOW), SequentialIds())
    store.create("b01", NOW, "c1")
    for i in range(BOUND + 1):
        store.add_message("c1", "buyer", f"问题{i}", NOW, f"m{i}")
    with captured(sql_engine, KINDS) as statements:
        store.messages("c1")
        with sql_engine.connect() as conn:
            conn.execute(text("SELECT id FROM sugg_suggestions WHERE intent = 'x'"))
    whole, scan = statements[-2:]
    assert too_many(sql_engine, [whole])
    assert problems(sql_engine, scan[0], plan_of(sql_engine, *scan))


# --- a real turn on the demo shop (SQLite file, migrated) ----------------------------------


def test_every_query_of_real_turns_is_indexed_and_bounded(tmp_path: Path) -> None:
    services = build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, reply_mode="assist"),
        clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True,
    )
    bot, engine = services.bot, services.db
    cid = bot.start_conversation("b04")
    lines = ["纯棉重磅短袖T恤是什么面料的", "有没有优惠券", "我的订单到哪了", "好的谢谢"]
    for i in range(30):
        bot.handle(cid, "b04", lines[i % len(lines)])
    with captured(engine, KINDS) as statements:
        for line in lines:  # drafted turns that wait for an agent, a flow's, chitchat
            bot.handle(cid, "b04", line)
    ours = [(s, p) for s, p in statements if any(t in s for t in OURS)]
    assert len(ours) >= 20
    assert len(services.conversations.messages(cid)) > 3 * BOUND
    assert not too_many(engine, ours)
    with captured(engine, KINDS) as ticks:  # the desk's timers, then hand-back's question
        services.clock.set(NOW + timedelta(minutes=10))  # type: ignore[attr-defined]
        assert bot.desk.run_due(services.clock.now()) > 0
        bot.desk.unanswered(cid)
    ours += [(s, p) for s, p in ticks if any(t in s for t in OURS)]
    for statement, parameters in ours:
        plan = plan_of(engine, statement, parameters)
        assert not problems(engine, statement, plan), f"{statement}\n--\n{plan}"
    assert any("sugg_by_conversation_status" in plan_of(engine, s, p) for s, p in ours), \
        "the pending-draft check should seek by conversation and status"

