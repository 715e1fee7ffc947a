"""A unit of work: the end of a turn is one commit, all of it or none of it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, func, select

from bot.clock import FrozenClock
from bot.config import Settings
from bot.conversations.sql import SqlConversationStore, messages_table
from bot.events import EventBus
from bot.ids import SequentialIds
from bot.services import build_services
from bot.storage.db import make_engine
from bot.storage.unit import unit_of_work
from bot.suggestions.sql import SuggestionRow
from bot.turns import TurnResult

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture
def store(sql_engine: Engine) -> SqlConversationStore:
    conversations = SqlConversationStore(sql_engine, tz=SHANGHAI)
    conversations.create("b01", T0, "c1")
    return conversations


def commits(engine: Engine) -> list[int]:
    seen: list[int] = []
    event.listen(engine, "commit", lambda conn: seen.append(1))
    return seen


def close_a_turn(store: SqlConversationStore, n: int) -> None:
    store.save_state("c1", {"step": n}, T0)
    store.set_status("c1", "waiting", T0)
    store.add_message("c1", "bot", f"亲，第{n}句", T0, f"m{n}", turn_id=f"t{n}")
    store.add_turn(TurnResult(conversation_id="c1", turn_id=f"t{n}", intent="greeting", reply="亲"), f"m{n}", T0)


def test_writes_outside_a_unit_commit_one_by_one(store: SqlConversationStore, sql_engine: Engine) -> None:
    seen = commits(sql_engine)
    close_a_turn(store, 1)
    assert len(seen) == 4


def test_a_unit_commits_its_writes_once(store: SqlConversationStore, sql_engine: Engine) -> None:
    seen = commits(sql_engine)
    with unit_of_work():
        close_a_turn(store, 1)
        assert seen == []  # nothing is committed before the block ends
    assert len(seen) == 1
    got = store.get("c1")
    assert got is not None and got.status == "waiting" and got.state == {"step": 1}
    assert [m.text for m in store.messages("c1")] == ["亲，第1句"]
    assert [t.turn_id for t in store.turns("c1")] == ["t1"]


def test_a_failing_unit_stores_nothing(store: SqlConversationStore) -> None:
    with pytest.raises(RuntimeError), unit_of_work():
        close_a_turn(store, 1)
        raise RuntimeError("the turn broke before its end")
    got = store.get("c1")
    assert got is not None and got.status == "bot" and got.state == {}
    assert store.messages("c1") == [] and store.turns("c1") == []


def test_reads_inside_a_unit_see_its_own_writes(store: SqlConversationStore) -> None:
    with unit_of_work():
        store.add_message("c1", "bot", "亲，在的", T0, "m1")
        assert [m.text for m in store.messages("c1")] == ["亲，在的"]


def test_a_unit_inside_a_unit_is_part_of_it(store: SqlConversationStore) -> None:
    with pytest.raises(RuntimeError), unit_of_work():
        with unit_of_work():
            close_a_turn(store, 1)
        raise RuntimeError("the outer block fails after the inner one ended")
    assert store.messages("c1") == []


def test_others_see_a_unit_only_once_it_is_committed(shared_engine: Engine) -> None:
    store = SqlConversationStore(shared_engine, tz=SHANGHAI)
    store.create("b01", T0, "c1")
    with unit_of_work():
        store.add_message("c1", "bot", "亲，在的", T0, "m1")
        with shared_engine.connect() as other:
            assert other.execute(select(func.count()).select_from(messages_table)).scalar_one() == 0
    with shared_engine.connect() as other:
        assert other.execute(select(func.count()).select_from(messages_table)).scalar_one() == 1


class WatchingBus(EventBus):
    """Notes, at each published bot message and draft, whether another connection already
    reads it."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.other = make_engine(url)
        self.visible: list[tuple[str, bool]] = []

    def publish(self, kind: str, data: dict[str, Any]) -> str:
        message = data.get("message") or {}
        if kind == "message" and message.get("role") == "bot":
            self.visible.append((kind, self._has(messages_table, message["id"])))
        elif kind == "suggestion.created":
            self.visible.append((kind, self._has(SuggestionRow.__table__, data["id"])))
        return super().publish(kind, data)

    def _has(self, table: Any, row_id: str) -> bool:
        with self.other.connect() as conn:
            return conn.execute(select(table.c.id).where(table.c.id == row_id)).first() is not None


def watched(tmp_path: Path, reply_mode: str) -> tuple[Any, WatchingBus]:
    services = build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, reply_mode=reply_mode),
        clock=FrozenClock(T0), ids=SequentialIds(), ephemeral=True,
    )
    bus = WatchingBus(services.settings.sqlalchemy_url)
    services.bot.events = bus
    return services, bus


def test_a_turn_ends_in_one_commit_and_is_published_after_it(tmp_path: Path) -> None:
    services, bus = watched(tmp_path, "auto")
    cid = services.bot.start_conversation("b01")
    seen = commits(services.db)
    turn = services.bot.handle(cid, "b01", "纯棉T恤起球吗")
    assert turn.delivered and turn.reply and turn.suggestion_id
    assert len(seen) == 2  # the buyer's message on arrival; draft, state, reply and record at the end
    assert bus.visible == [("suggestion.created", True), ("message", True)]
    bus.other.dispose()


def test_a_draft_waiting_for_an_agent_lands_with_its_turn(tmp_path: Path) -> None:
    services, bus = watched(tmp_path, "assist")
    cid = services.bot.start_conversation("b01")
    seen = commits(services.db)
    turn = services.bot.handle(cid, "b01", "纯棉T恤起球吗")
    assert not turn.delivered and turn.suggestion_id
    assert len(seen) == 2
    assert bus.visible == [("suggestion.created", True)]
    stored = services.suggestions.get(turn.suggestion_id)
    assert stored is not None and stored.status == "pending" and stored.turn_id == turn.turn_id
    assert [t.suggestion_id for t in services.conversations.turns(cid)] == [turn.suggestion_id]
    bus.other.dispose()
