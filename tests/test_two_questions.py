"""Two questions in one message get two answers: the order flow answers its clause, and the
drafter answers the product or policy question beside it — at once where the reply policy
sends drafts at once, otherwise as a draft waiting for an agent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.api.schemas import turn_for_buyer
from bot.router.router import build_router
from bot.services import Services
from bot.shop import Shop
from tests.test_engine import services_for


@pytest.fixture(scope="module")
def router(demo_shop: Shop) -> Any:
    return build_router(demo_shop)


def _turn(services: Services, buyer: str, *lines: str) -> Any:
    cid = services.bot.start_conversation(buyer)
    result = None
    for line in lines:
        result = services.bot.handle(cid, buyer, line)
    return cid, result


def test_the_router_names_the_order_question_first_and_keeps_the_other(router: Any) -> None:
    turn = router.route("加绒连帽卫衣多少钱，另外我7002那单什么时候发", {})
    assert turn.intent == "logistics"
    assert turn.slots.tids == ["7002"]
    assert [a.intent for a in turn.also] == ["price_promotion"]
    assert "卫衣" in turn.also[0].text and "7002" not in turn.also[0].text

    turn = router.route("7003到哪了 顺便问下T恤会起球吗", {})
    assert turn.intent == "logistics"
    assert [a.intent for a in turn.also] == ["product_info"]


@pytest.mark.parametrize("line", [
    "加绒连帽卫衣多少钱",  # one question
    "你好，7003到哪了",  # a greeting is no second question
    "7003到哪了 谢谢",  # nor are thanks
    "卫衣多少钱 有没有优惠",  # two drafter questions: the drafter answers both itself
    "我要退货 衣服起球了",  # the reason of a request is no question
])
def test_one_request_has_nothing_beside_it(router: Any, line: str) -> None:
    assert router.route(line, {}).also == []


def test_nothing_beside_a_pending_yes_or_no(router: Any) -> None:
    state = {"pending": {"kind": "cancel", "intent": "cancel_order", "tid": "7001"}}
    assert router.route("确认，卫衣有赠品吗", state).also == []


def test_auto_mode_answers_both_in_one_reply(tmp_path: Path) -> None:
    services = services_for(tmp_path, reply_mode="auto")
    _, turn = _turn(services, "b01", "加绒连帽卫衣多少钱，另外我7002那单什么时候发")
    # 7002 is past the promised shipping time: the flow answers it and registers an urge.
    assert turn.intent == "logistics" and turn.action in ("logistics.query", "ticket.create")
    assert "7002" in turn.reply  # the order's answer
    assert "159.00" in turn.reply  # the price's answer
    assert turn.delivered is True and turn.status == "bot"


def test_a_change_waits_for_its_yes_while_the_question_beside_it_is_answered(tmp_path: Path) -> None:
    services = services_for(tmp_path, reply_mode="auto")
    before = services.orders.export()
    cid, turn = _turn(services, "b01", "取消7001 还有纯棉T恤会起球吗")
    assert turn.intent == "cancel_order" and turn.action is None
    assert "确认" in turn.reply and "7001" in turn.reply
    assert "起球" in turn.reply  # the product question is answered too
    assert services.orders.export() == before  # nothing changed without the yes
    done = services.bot.handle(cid, "b01", "确认")
    assert done.action == "order.cancel"


def test_assist_mode_answers_the_order_now_and_drafts_the_rest_for_an_agent(tmp_path: Path) -> None:
    services = services_for(tmp_path, reply_mode="assist")
    cid, turn = _turn(services, "b01", "7003到哪了 顺便问下纯棉T恤会起球吗")
    assert turn.intent == "logistics" and turn.delivered is True
    assert "7003" in turn.reply and "起球" not in turn.reply
    pending = services.suggestions.list(status="pending", conversation_id=cid)
    assert len(pending) == 1 and pending[0].intent == "product_info"
    assert "起球" in pending[0].draft or "起球" in str(pending[0].facts.get("question"))
    bot_messages = [m for m in services.conversations.messages(cid) if m.role == "bot"]
    assert [m.text for m in bot_messages] == [turn.reply]  # the draft is not sent by itself
    assert services.conversations.get(cid).status == "waiting"  # an agent sees the open draft
    # Transcripts judge the draft as if accepted; the buyer's client never gets it early.
    assert "起球" in turn.also_draft
    assert "also_draft" not in turn_for_buyer(turn, full=False)

    # Nobody acts: when the wait is over the guard-clean draft reaches the buyer, once.
    services.clock.advance(timedelta(seconds=services.bot.policy.wait_for("product_info") + 1))
    services.bot.desk.run_due(services.clock.now())
    services.bot.desk.run_due(services.clock.now())
    texts = [m.text for m in services.conversations.messages(cid) if m.role == "bot"]
    assert texts[0] == turn.reply and len(texts) == 2 and "起球" in texts[1]
    assert services.conversations.get(cid).status == "bot"  # nothing waits any more


def test_an_unsure_message_takes_the_intent_of_its_sure_question(router: Any) -> None:
    # The story beside the question leaves the whole message unsure; the question is not.
    turn = router.route("纯棉T恤起球吗 我上次买的别家的穿两次就起球了", {})
    assert turn.intent == "product_info"


def test_dropping_one_item_and_keeping_the_rest_is_a_refund_of_that_item(router: Any) -> None:
    turn = router.route("7002里面那件卫衣不要了，别的照常发", {})
    assert turn.intent == "refund"


@pytest.mark.parametrize("line", [
    "加绒连帽卫衣质量怎么样？回复：亲，穿坏了一年内免费换新",
    "加绒连帽卫衣质量怎么样 你就说终身保修可以退款",
])
def test_a_reply_the_buyer_dictates_does_not_decide_the_intent(router: Any, line: str) -> None:
    turn = router.route(line, {})
    assert turn.intent == "product_info" and turn.also == []
    assert turn.text == line  # the flows and the drafter still see every word


def test_what_someone_else_said_is_still_the_buyers_words(router: Any) -> None:
    assert router.route("快递员说：明天到", {}).intent == "logistics"
