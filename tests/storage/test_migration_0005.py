"""Revision 0005 on a database with conversations: each conversation's marker of the buyer's
newest message is worked out from the messages already stored, so the desk reads the right
messages after an upgrade; and what is written afterwards keeps it."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, inspect, text

from bot.conversations.sql import SqlConversationStore
from bot.storage import schema

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


def _at_0004_with_messages(engine: Engine) -> None:
    schema.upgrade(engine, "0004")
    conversation = (
        "INSERT INTO conv_conversations (id, buyer_id, status, state, created, updated, message_count) "
        "VALUES (:id, 'b01', 'bot', '{}', :now, :now, :count)"
    )
    message = (
        "INSERT INTO conv_messages (id, conversation_id, seq, role, text, created) "
        "VALUES (:id, :cid, :seq, :role, :text, :now)"
    )
    with engine.begin() as conn:
        for cid, roles in (("c1", ["buyer", "bot", "buyer", "bot", "system"]), ("c2", ["bot"]), ("c3", [])):
            conn.execute(text(conversation), {"id": cid, "now": NOW, "count": len(roles)})
            for seq, role in enumerate(roles, start=1):
                conn.execute(text(message), {"id": f"{cid}-{seq}", "cid": cid, "seq": seq, "role": role,
                                             "text": f"{role} {seq}", "now": NOW})


def test_the_marker_is_filled_from_the_stored_messages(engine: Engine) -> None:
    _at_0004_with_messages(engine)
    assert "last_buyer_seq" not in {c["name"] for c in inspect(engine).get_columns("conv_conversations")}
    schema.upgrade(engine)
    store = SqlConversationStore(engine)
    assert [m.text for m in store.since_buyer("c1") or []] == ["bot 4", "system 5"]
    assert store.last_buyer_message("c1").id == "c1-3"  # type: ignore[union-attr]
    assert store.since_buyer("c2") is None and store.since_buyer("c3") is None
    store.add_message("c2", "buyer", "在吗", NOW, "c2-2")
    assert store.since_buyer("c2") == [] and store.last_buyer_message("c2").id == "c2-2"  # type: ignore[union-attr]
    assert not schema.differences(engine)


def test_downgrade_to_0004_and_back(engine: Engine) -> None:
    _at_0004_with_messages(engine)
    schema.upgrade(engine)
    from alembic import command

    config = schema.alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        conn.commit()
    names = {i["name"] for i in inspect(engine).get_indexes("sugg_suggestions")}
    assert "sugg_by_conversation_status" not in names
    schema.upgrade(engine)
    assert SqlConversationStore(engine).last_buyer_message("c1").id == "c1-3"  # type: ignore[union-attr]
