"""The outbox: stored before delivery, delivered once into the buyer's conversation, held by
quiet hours and the daily cap, dropped when no longer wanted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.outreach.outbox import Outgoing
from bot.services import Services
from bot.workbench import parse_action

from .conftest import at, make


def tick(services: Services, **delta: float) -> None:
    services.clock.advance(timedelta(**delta))  # type: ignore[attr-defined]
    services.scheduler.tick()


def bot_texts(services: Services, buyer: str) -> list[str]:
    conv = services.conversations.latest_for(buyer)
    if conv is None:
        return []
    return [m.text for m in services.conversations.messages(conv.id) if m.role == "bot"]


def test_a_reminder_is_stored_then_delivered_once_into_the_buyers_conversation(services: Services) -> None:
    tick(services, minutes=15)
    assert bot_texts(services, "c01") == []
    tick(services, minutes=10)  # 30 minutes after the order was placed
    [text] = bot_texts(services, "c01")
    assert "9001" in text and "满199减15店铺券" in text
    [stored] = services.outreach.outbox.messages(buyer_id="c01")
    assert stored.status == "sent" and stored.text == text
    for _ in range(3):
        tick(services, hours=1)
    assert bot_texts(services, "c01") == [text]


def test_quiet_hours_hold_a_message_until_they_end(tmp_path: Path) -> None:
    services = make(tmp_path, at("2026-11-21T21:55:00+08:00"))
    tick(services, minutes=30)  # 22:25: the 9002 reminder is due but the shop is quiet
    [held] = services.outreach.outbox.messages(buyer_id="c04")
    assert held.status == "pending" and bot_texts(services, "c04") == []
    tick(services, hours=9, minutes=30)  # 07:55
    assert bot_texts(services, "c04") == []
    tick(services, minutes=5)  # 08:00
    assert len(bot_texts(services, "c04")) == 1


def test_a_reminder_held_in_quiet_hours_is_dropped_once_the_order_closes(tmp_path: Path) -> None:
    services = make(tmp_path, at("2026-11-21T21:55:00+08:00"))
    tick(services, minutes=30)
    services.orders.cancel_order("9002", key="buyer-cancel")
    tick(services, hours=10)
    [dropped] = services.outreach.outbox.messages(buyer_id="c04")
    assert dropped.status == "dropped" and "关闭" in (dropped.reason or "")
    assert bot_texts(services, "c04") == []


def test_the_daily_cap_holds_the_shops_own_messages_but_not_notices(tmp_path: Path) -> None:
    services = make(tmp_path, at("2026-11-21T10:00:00+08:00"), outreach_daily_cap=1)
    outbox, now = services.outreach.outbox, services.clock.now()
    for n in (1, 2):
        outbox.enqueue(Outgoing(f"test:{n}", "c03", "care", f"第{n}条关怀", now), now)
    services.workbench.perform(parse_action({"action": "return.agree", "tid": "9008"}), "alice")
    tick(services, minutes=1)
    texts = bot_texts(services, "c03")
    assert "第1条关怀" in texts and "第2条关怀" not in texts
    assert any("龙井路18号" in t for t in texts)  # the notice went despite the cap
    tick(services, hours=22)  # 08:01 the next day
    assert "第2条关怀" in bot_texts(services, "c03")


def test_a_delivery_interrupted_after_the_chat_message_is_only_marked(services: Services) -> None:
    now = services.clock.now()
    outbox = services.outreach.outbox
    outbox.enqueue(Outgoing("test:crash", "c03", "care", "一条关怀", now), now)
    [message] = outbox.messages(buyer_id="c03")
    cid = services.bot.conversation_for("c03")
    services.conversations.add_message(cid, "bot", message.text, now, message.id)  # then the crash
    tick(services, seconds=1)
    assert bot_texts(services, "c03") == ["一条关怀"]
    assert outbox.messages(buyer_id="c03")[0].status == "sent"


def test_enqueueing_the_same_thing_twice_stores_it_once(services: Services) -> None:
    now = services.clock.now()
    message = Outgoing("pay:9001:1", "c01", "payment_reminder", "提醒", now, tid="9001")
    assert services.outreach.outbox.enqueue(message, now) is True
    assert services.outreach.outbox.enqueue(message, now) is False
    assert len(services.outreach.outbox.messages()) == 1
