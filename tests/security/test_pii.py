"""Personal data never reaches a model unmasked: not in the system message or the facts, not
in the history of either side (buyer, bot, agent), not in the question, not in a regeneration
request quoting what the model wrote.

The model is a real OpenAI-compatible HTTP server (tests/fakes/openai_server.py) that records
every request body; the services are built from ``XIAOER_LLM_MODEL``-style settings on the
demo shop.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot.services import Services
from tests.fakes.openai_server import FakeOpenAI

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
BUYER = "b01"
GOOD = "亲，加绒连帽卫衣原价159.00元，参加秋冬上新 卫衣外套9折后143.10元哦～"

# (who said it, text, the raw values in it, how one of them looks masked)
HISTORY = [
    ("buyer", "我身份证110101199003074514，手机13912345678，收货地址文三路100号3单元501室，邮箱lisi@example.com",
     ["110101199003074514", "13912345678", "100号3单元", "lisi@example.com"], "139****5678"),
    ("bot", "没有查到订单 330106199001011234 哦，您的手机13987654321，地址天目山路200号5幢",
     ["330106199001011234", "13987654321", "200号5幢"], "330106********1234"),
    ("agent", "已记下您的邮箱 wangfang@example.com 和退款卡号 6217001234567890，座机0571-88886666",
     ["wangfang@example.com", "6217001234567890", "88886666"], "w***@example.com"),
]


pytestmark = pytest.mark.usefixtures("nothing_left_scripted")


@pytest.fixture(scope="module")
def services(obedient_services: Services) -> Services:
    return obedient_services


def bodies(fake: FakeOpenAI, since: int) -> list[str]:
    return [json.dumps(r.body, ensure_ascii=False) for r in fake.chat_requests[since:]]


def conversation_with_history(services: Services) -> str:
    """A conversation whose earlier turns, on both sides, carry personal data."""
    conversation = services.bot.start_conversation(BUYER)
    at = NOW - timedelta(minutes=10)
    for i, (role, text, _, _) in enumerate(HISTORY):
        services.conversations.add_message(conversation, role, text, at + timedelta(minutes=i), services.ids.new_id("m"),
                                           author="demo" if role == "agent" else None)
    return conversation


def test_no_history_turn_reaches_the_model_unmasked(services: Services, fake: FakeOpenAI) -> None:
    conversation = conversation_with_history(services)
    since = len(fake.chat_requests)
    fake.script(GOOD)
    services.bot.handle(conversation, BUYER, "加绒连帽卫衣多少钱？我电话15900001111")
    sent = bodies(fake, since)
    assert len(sent) == 1
    raw = [value for _, _, values, _ in HISTORY for value in values] + ["15900001111"]
    leaked = [value for value in raw if any(value in body for body in sent)]
    assert leaked == []
    # The model still reads the conversation, masked.
    for _, _, _, masked in HISTORY:
        assert masked in sent[0]
    messages = fake.chat_requests[since].body["messages"]
    # Earlier turns of the same side (the bot's and the agent's) reach the model as one message.
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "159****1111" in messages[-1]["content"]


def test_a_regeneration_request_quoting_the_models_words_is_masked(services: Services, fake: FakeOpenAI) -> None:
    conversation = conversation_with_history(services)
    since = len(fake.chat_requests)
    fake.script("亲，有问题发邮件到 boss.wang@evil-mail.cn，或打 13812345678 找店长", GOOD)
    services.bot.handle(conversation, BUYER, "加绒连帽卫衣多少钱")
    sent = bodies(fake, since)
    assert len(sent) == 2, "the first draft failed the guards and was regenerated"
    retry_system = fake.chat_requests[since + 1].body["messages"][0]["content"]
    assert "link_or_contact" in retry_system  # the reason is given ...
    assert not any("boss.wang@evil-mail.cn" in body or "13812345678" in body for body in sent)  # ... masked


def test_an_id_card_number_the_buyer_types_is_not_echoed_as_an_order_id(services: Services, fake: FakeOpenAI) -> None:
    conversation = services.bot.start_conversation(BUYER)
    first = services.bot.handle(conversation, BUYER, "帮我查下订单 330106199001011234")
    assert "330106199001011234" not in first.reply
    since = len(fake.chat_requests)
    fake.script(GOOD)
    services.bot.handle(conversation, BUYER, "加绒连帽卫衣多少钱")
    assert not any("330106199001011234" in body for body in bodies(fake, since))
