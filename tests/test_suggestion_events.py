"""The event of a new draft tells the consoles what they show, without the facts behind it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.config import Settings
from bot.services import build_services

ROOT = Path(__file__).resolve().parent.parent


def test_a_drafted_turn_announces_its_suggestion_without_the_facts(tmp_path: Path) -> None:
    services = build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, database_url=None, reply_mode="assist"),
        ephemeral=True,
    )
    bot = services.bot
    buyer = sorted(services.shop.buyers)[0]

    async def turn() -> list[dict]:  # type: ignore[type-arg]
        queue = services.events.subscribe()
        conversation = bot.start_conversation(buyer)
        result = bot.handle(conversation, buyer, "纯棉重磅短袖T恤是什么面料的？穿着舒服吗")
        assert result.suggestion_id and not result.delivered
        events = []
        while not any(e["kind"] == "suggestion.created" for e in events):
            events.append(await asyncio.wait_for(queue.get(), 5))
        return events

    events = asyncio.run(turn())
    created = [e["data"] for e in events if e["kind"] == "suggestion.created"]
    assert len(created) == 1
    announced = created[0]
    stored = services.suggestions.get(announced["id"])
    assert stored.facts  # drafted from facts, which the detail keeps
    assert "facts" not in announced
    assert announced["turn_id"] == stored.turn_id and announced["draft"] == stored.draft
    assert announced["status"] == "pending" and announced["conversation_id"] == stored.conversation_id
