"""The assist loop on the real stack: a waiting draft, its timers, the copilot, hand-back.

Real SQLite, the demo shop, a frozen clock moved by hand; the desk's timers are run the way
the scheduler runs them (``run_due(now)``), twice where idempotence matters.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services
from bot.shop import load_shop
from bot.shop.models import IntentReply, ReplyPolicy, Shop

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
BUYER = "b04"


def _shop(policy: ReplyPolicy | None = None) -> Shop:
    shop = load_shop(ROOT / "knowledge")
    if policy is not None:
        shop.info.reply_policy = policy
    return shop


def services_for(tmp_path: Path, policy: ReplyPolicy | None = None, **settings: Any) -> Services:
    return build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, reply_mode="assist", **settings),
        shop=_shop(policy), clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True,
    )


def at(services: Services, seconds: float) -> datetime:
    clock = services.clock
    assert isinstance(clock, FrozenClock)
    clock.set(NOW + timedelta(seconds=seconds))
    return clock.now()


def texts(services: Services, cid: str, role: str = "bot") -> list[str]:
    return [m.text for m in services.conversations.messages(cid) if m.role == role]


def test_a_waiting_draft_is_queued_then_held_then_sent_never_twice(tmp_path: Path) -> None:
    services = services_for(tmp_path, ReplyPolicy(hold_s=20, wait_s=60))
    desk = services.bot.desk
    cid = services.bot.start_conversation(BUYER)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    assert not turn.delivered and turn.suggestion_id
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "waiting" and conv.waiting_since == NOW  # 待接入, with its time

    assert desk.run_due(at(services, 19)) == 0
    assert texts(services, cid) == []
    assert desk.run_due(at(services, 20)) == 1  # 首响: a short holding message
    assert desk.run_due(at(services, 20)) == 0
    [hold] = texts(services, cid)
    assert "稍等" in hold and "小棉" in hold

    assert desk.run_due(at(services, 60)) == 1  # no agent acted: the guard-clean draft goes out
    assert desk.run_due(at(services, 61)) == 0
    assert texts(services, cid) == [hold, turn.reply]
    sent = services.suggestions.get(turn.suggestion_id)
    assert sent is not None and sent.status == "auto_sent" and sent.decided_by == "bot"
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "bot"  # it waited for the draft only


def test_the_desk_is_a_scheduled_job(tmp_path: Path) -> None:
    services = services_for(tmp_path)
    assert services.bot.desk.name in [job.name for job in services.scheduler.jobs]


def test_an_agent_who_accepts_in_time_leaves_no_holding_message(tmp_path: Path) -> None:
    services = services_for(tmp_path, ReplyPolicy(hold_s=20, wait_s=60))
    cid = services.bot.start_conversation(BUYER)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    at(services, 5)
    services.bot.desk.deliver(services.suggestions.accept(turn.suggestion_id, "demo"))  # type: ignore[arg-type]
    assert services.bot.desk.run_due(at(services, 120)) == 0
    assert texts(services, cid) == [turn.reply]
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "bot"


def test_a_rejected_draft_that_nobody_answers_ends_in_a_handoff_note(tmp_path: Path) -> None:
    services = services_for(tmp_path, ReplyPolicy(hold_s=20, wait_s=60))
    cid = services.bot.start_conversation(BUYER)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    services.suggestions.reject(turn.suggestion_id, "demo", "面料说法不准确")  # type: ignore[arg-type]
    services.bot.desk.run_due(at(services, 20))
    assert services.bot.desk.run_due(at(services, 60)) == 1
    hold, note = texts(services, cid)
    assert "人工客服" in note and turn.reply not in texts(services, cid)  # the rejected text is never sent
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "waiting" and conv.summary and QUESTION[:10] in conv.summary
    # Once answered by a person, nothing else goes out.
    services.bot.desk.post(cid, "亲，这款是100%棉的～", role="agent", author="demo")
    services.suggestions.settle(cid)
    assert services.bot.desk.run_due(at(services, 600)) == 0


def test_a_flagged_draft_is_never_sent_by_the_timer(tmp_path: Path) -> None:
    from tests.suggestions.helpers import draft

    services = services_for(tmp_path, ReplyPolicy(hold_s=20, wait_s=60))
    cid = services.bot.start_conversation(BUYER)
    services.conversations.add_message(cid, "buyer", QUESTION, NOW, "m-q")
    flagged = draft("亲，这是全网最好的面料", passed=False)
    s = services.suggestions.create(cid, "t-q", "product_info", flagged, auto_sent=False,
                                    due_at=NOW + timedelta(seconds=60))
    assert services.bot.desk.run_due(at(services, 60)) == 1
    assert flagged.text not in texts(services, cid)
    assert "人工客服" in texts(services, cid)[-1]
    assert services.suggestions.get(s.id).status == "pending"  # type: ignore[union-attr]  # still the agent's


def test_an_intent_the_policy_sends_at_once_is_sent_at_once(tmp_path: Path) -> None:
    policy = ReplyPolicy(intents={"product_info": IntentReply(send="send")})
    services = services_for(tmp_path, policy)
    cid = services.bot.start_conversation(BUYER)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    assert turn.intent == "product_info" and turn.delivered
    assert texts(services, cid) == [turn.reply]
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "bot"


def test_an_intent_can_wait_longer_than_the_shop_default(tmp_path: Path) -> None:
    policy = ReplyPolicy(hold_s=20, wait_s=60, intents={"product_info": IntentReply(wait_s=300)})
    services = services_for(tmp_path, policy)
    cid = services.bot.start_conversation(BUYER)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    services.bot.desk.run_due(at(services, 120))
    assert turn.reply not in texts(services, cid)
    services.bot.desk.run_due(at(services, 300))
    assert turn.reply in texts(services, cid)


def test_the_copilot_drafts_during_a_takeover_and_hand_back_answers(tmp_path: Path) -> None:
    services = services_for(tmp_path, ReplyPolicy(hold_s=20, wait_s=60))
    cid = services.bot.start_conversation(BUYER)
    services.conversations.claim(cid, "demo", NOW)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    draft = services.suggestions.get(turn.suggestion_id)  # type: ignore[arg-type]
    assert draft is not None and draft.origin == "copilot" and draft.status == "pending"
    assert draft.citations and draft.facts.get("question") == QUESTION  # facts and citations for the agent
    assert not turn.delivered and texts(services, cid) == []

    # 首响 holds whatever the agent does: a silent agent still leaves no buyer unanswered.
    services.bot.desk.run_due(at(services, 20))
    assert len(texts(services, cid)) == 1
    # The timer never sends the copilot's draft while the agent has the conversation.
    services.bot.desk.run_due(at(services, 600))
    assert draft.draft not in texts(services, cid)

    services.conversations.set_status(cid, "bot", at(services, 601))
    services.bot.answer_open(cid)
    assert texts(services, cid)[-1] == draft.draft
    assert services.suggestions.get(draft.id).status == "auto_sent"  # type: ignore[union-attr]


def test_hand_back_with_nothing_drafted_answers_the_open_question(tmp_path: Path) -> None:
    services = services_for(tmp_path)
    cid = services.bot.start_conversation(BUYER)
    services.conversations.add_message(cid, "buyer", QUESTION, NOW, "m-open")
    result = services.bot.answer_open(cid)
    assert result is not None and result.delivered and texts(services, cid) == [result.reply]
    assert services.bot.answer_open(cid) is None  # nothing open any more


@pytest.mark.parametrize(
    ("yaml_text", "where"),
    [
        ("reply_policy: {hold_z: 3}\n", "reply_policy.hold_z"),
        ("reply_policy: {wait_s: 0}\n", "reply_policy.wait_s"),
        ("reply_policy: {intents: {sales: {send: send}}}\n", "reply_policy.intents.sales"),
        ("reply_policy: {intents: {stock: {send: later}}}\n", "reply_policy.intents.stock.send"),
        ("demo_now: tomorrow\n", "demo_now"),
    ],
)
def test_a_bad_reply_policy_names_file_and_key(tmp_path: Path, yaml_text: str, where: str) -> None:
    import shutil

    from bot.errors import ShopInvalid

    shop_dir = tmp_path / "shop"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_shop", shop_dir)
    with (shop_dir / "shop.yaml").open("a", encoding="utf-8") as f:
        f.write(yaml_text)
    with pytest.raises(ShopInvalid) as err:
        load_shop(shop_dir)
    assert any(p.file == "shop.yaml" and where in p.where for p in err.value.problems), err.value.problems


def test_the_demo_shop_names_its_reference_time() -> None:
    shop = load_shop(ROOT / "knowledge")
    assert shop.info.demo_now == NOW
    # Taobao 首响: a first reply within 30 s by default, the scheduler's tick included.
    assert shop.info.reply_policy.hold_s + Settings().scheduler_interval_s <= 30
    assert ReplyPolicy().hold_s + Settings().scheduler_interval_s <= 30
