"""What follows the buyer's newest message, read without the whole history: the store keeps
the number of that message, so the assist desk's timers and the hand-back look at a few rows
however long the conversation is."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.conversations.sql import SqlConversationStore
from bot.errors import NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture
def store(sql_engine: Engine) -> SqlConversationStore:
    return SqlConversationStore(sql_engine, tz=SHANGHAI)


def _say(store: SqlConversationStore, role: str, text: str, n: int, **kw: str) -> None:
    store.add_message("c1", role, text, T0 + timedelta(seconds=n), f"m{n}", **kw)  # type: ignore[arg-type]


def test_nothing_from_the_buyer_yet_is_none(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    assert store.since_buyer("c1") is None
    assert store.last_buyer_message("c1") is None
    _say(store, "bot", "亲，欢迎光临～", 1)  # an unprompted message is not the buyer's
    assert store.since_buyer("c1") is None
    assert store.last_buyer_message("c1") is None
    assert store.since_buyer("nope") is None and store.last_buyer_message("nope") is None


def test_the_messages_after_the_buyers_newest_one_in_order(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    n = 0
    for i in range(40):  # a long history of questions and answers
        n += 1
        _say(store, "buyer", f"问题{i}", n)
        n += 1
        _say(store, "bot", f"回答{i}", n, turn_id=f"t{i}")
    n += 1
    _say(store, "buyer", "还有别的颜色吗", n)
    assert store.since_buyer("c1") == []
    last = store.last_buyer_message("c1")
    assert last is not None and (last.id, last.text, last.seq) == (f"m{n}", "还有别的颜色吗", n)
    assert last.created.utcoffset() == timedelta(hours=8)

    _say(store, "bot", "亲，请稍等～", n + 1)
    _say(store, "agent", "有米白色的", n + 2, author="demo")
    after = store.since_buyer("c1")
    assert [(m.role, m.text) for m in after or []] == [("bot", "亲，请稍等～"), ("agent", "有米白色的")]
    assert store.last_buyer_message("c1").id == f"m{n}"  # type: ignore[union-attr]

    _say(store, "buyer", "好的", n + 3)  # the marker moves with every buyer message
    assert store.since_buyer("c1") == []
    assert store.last_buyer_message("c1").text == "好的"  # type: ignore[union-attr]


def test_conversations_keep_their_own_marker(store: SqlConversationStore) -> None:
    store.create("b01", T0, "c1")
    store.create("b02", T0, "c2")
    _say(store, "buyer", "在吗", 1)
    store.add_message("c2", "bot", "亲～", T0, "x1")
    assert store.since_buyer("c2") is None
    assert store.last_buyer_message("c1").id == "m1"  # type: ignore[union-attr]


def test_a_message_to_a_missing_conversation_moves_no_marker(store: SqlConversationStore) -> None:
    with pytest.raises(NotFound):
        store.add_message("nope", "buyer", "在吗", T0, "m1")
    assert store.since_buyer("nope") is None
