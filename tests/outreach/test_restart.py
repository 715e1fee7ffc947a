"""A restart in the middle: new services over the same SQLite file lose nothing that was
stored and send nothing twice — reminders held by quiet hours, a notice, a 回访 answer and
the ticket it opened."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.services import Services
from bot.workbench import parse_action

from .conftest import at, make


def tick(services: Services, **delta: float) -> None:
    services.clock.advance(timedelta(**delta))  # type: ignore[attr-defined]
    services.scheduler.tick()


def bot_messages(services: Services) -> Counter[str]:
    seen: Counter[str] = Counter()
    for conv in services.conversations.list():
        for m in services.conversations.messages(conv.id):
            if m.role == "bot":
                seen[m.id] += 1
    return seen


def restart(old: Services, data_dir: Path) -> Services:
    old.db.dispose()
    return make(data_dir, old.clock.now())


def test_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    first = make(tmp_path, at("2026-11-21T21:50:00+08:00"))
    tick(first, minutes=35)  # 22:25: reminders of 9001, 9003, 9002 and the 回访 of 9006 wait out the quiet hours
    held = {m.dedupe_key for m in first.outreach.outbox.messages(status="pending")}
    assert held == {"pay:9001:1", "pay:9003:1", "pay:9002:1", "follow:9006"}
    first.workbench.perform(
        parse_action({"action": "order.ship", "tid": "9005", "carrier": "顺丰速运", "tracking_no": "SF100200"}),
        "alice", request_key="ship-9005",
    )
    assert first.outreach.outbox.get(f"notice:{first.workbench.history(tid='9005')[0].id}") is not None

    second = restart(first, tmp_path)
    again = second.workbench.perform(
        parse_action({"action": "order.ship", "tid": "9005", "carrier": "顺丰速运", "tracking_no": "SF100200"}),
        "alice", request_key="ship-9005",
    )
    assert again.done and len(second.workbench.history(tid="9005")) == 1
    tick(second, hours=9, minutes=40)  # 08:05: quiet hours are over
    sent = second.outreach.outbox.messages(status="sent")
    assert {m.dedupe_key for m in sent} >= held | {f"notice:{again.id}"}
    assert all(n == 1 for n in bot_messages(second).values())

    third = restart(second, tmp_path)
    for _ in range(3):
        tick(third, minutes=10)
    assert bot_messages(third) == bot_messages(second)
    keys = [m.dedupe_key for m in third.outreach.outbox.messages()]
    assert len(keys) == len(set(keys))


def test_a_low_rating_opens_one_ticket_across_a_restart(tmp_path: Path) -> None:
    first = make(tmp_path, at("2026-11-21T09:55:00+08:00"))
    tick(first, minutes=10)  # the 回访 of 9006 (signed 11-18 10:00) goes at 10:05
    [follow] = [m for m in first.outreach.sent_to("c02") if m.kind == "follow_up"]
    assert "1-5" in follow.text
    assert follow.conversation_id is not None
    first.bot.handle(follow.conversation_id, "c02", "给2分吧，盖子漏水")

    second = restart(first, tmp_path)
    tick(second, minutes=1)
    third = restart(second, tmp_path)
    tick(third, minutes=1)
    tickets = [t for t in third.orders.tickets("9006") if t.kind == "low_rating"]
    assert len(tickets) == 1 and "2 分" in tickets[0].note and "漏水" in tickets[0].note
    [answer] = third.outreach.ratings.ratings()
    assert answer.rating == 2 and answer.ticket_id == tickets[0].id and answer.tid == "9006"
