"""The desk's timers deep into a long conversation: what counts is what came after the buyer's
newest message, not the answers and holding messages of earlier questions; and a
conversation parked for one draft goes back to the bot even with many drafts decided."""

from __future__ import annotations

from pathlib import Path

from bot.services import Services
from bot.shop.models import ReplyPolicy
from tests.suggestions.test_assist import BUYER, NOW, QUESTION, at, services_for, texts

HOLD = ReplyPolicy(hold_s=20, wait_s=60)


def _long_history(services: Services, cid: str, turns: int = 25) -> None:
    """Earlier questions, each answered and followed by a holding message."""
    desk = services.bot.desk
    for i in range(turns):
        services.conversations.add_message(cid, "buyer", f"第{i}个问题", NOW, f"old-b{i}")
        desk.post(cid, "亲，这边帮您确认一下～", role="agent", author="demo")
        desk.post(cid, services.bot.desk.templates.render("assist_hold"))


def test_a_new_question_is_held_whatever_was_answered_before(tmp_path: Path) -> None:
    services = services_for(tmp_path, HOLD)
    cid = services.bot.start_conversation(BUYER)
    _long_history(services, cid)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    assert not turn.delivered
    assert services.bot.desk.unanswered(cid)
    before = len(texts(services, cid))
    assert services.bot.desk.run_due(at(services, 20)) == 1  # the earlier holding messages count not
    assert len(texts(services, cid)) == before + 1
    assert services.bot.desk.run_due(at(services, 60)) == 1  # then the draft
    assert texts(services, cid)[-1] == turn.reply
    assert not services.bot.desk.unanswered(cid)
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "bot"


def test_an_answer_after_the_newest_question_leaves_no_hold(tmp_path: Path) -> None:
    services = services_for(tmp_path, HOLD)
    cid = services.bot.start_conversation(BUYER)
    _long_history(services, cid)
    turn = services.bot.handle(cid, BUYER, QUESTION)
    services.bot.desk.post(cid, "亲，是100%棉的～", role="agent", author="demo")
    assert not services.bot.desk.unanswered(cid)
    before = texts(services, cid)
    assert services.bot.desk.run_due(at(services, 20)) == 0
    assert texts(services, cid) == before
    assert turn.suggestion_id


def test_a_parked_conversation_goes_back_to_the_bot_once_its_last_draft_is_decided(tmp_path: Path) -> None:
    services = services_for(tmp_path, HOLD)
    cid = services.bot.start_conversation(BUYER)
    waiting = [services.bot.handle(cid, BUYER, QUESTION) for _ in range(4)]
    assert all(t.suggestion_id and not t.delivered for t in waiting)
    for t in waiting[:-1]:
        services.bot.desk.deliver(services.suggestions.accept(t.suggestion_id, "demo"))  # type: ignore[arg-type]
        conv = services.conversations.get(cid)
        assert conv is not None and conv.status == "waiting"  # one draft still waits
    services.bot.desk.deliver(services.suggestions.accept(waiting[-1].suggestion_id, "demo"))  # type: ignore[arg-type]
    conv = services.conversations.get(cid)
    assert conv is not None and conv.status == "bot"
