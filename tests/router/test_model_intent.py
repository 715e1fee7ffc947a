"""The configured model reads the topic of a line the classifier is unsure of: over real HTTP
to a scripted OpenAI-compatible server, masked, bounded in time and in calls, never a yes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.drafting.prompts import PromptSet
from bot.router.model_intent import ModelIntentReader, read_label
from bot.router.router import LLM_BELOW, Router, build_router
from bot.services import Services
from bot.shop import load_shop
from tests.api.conftest import make_services
from tests.fakes.openai_server import FakeOpenAI, Reply

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
# A line the demo shop's classifier is unsure of, with a phone number in it.
UNSURE = "13800001111 咋回事"


@pytest.fixture(scope="module")
def plain() -> Router:
    return build_router(load_shop(KNOWLEDGE))


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _reader(model: FakeOpenAI, **overrides: object) -> ModelIntentReader:
    options: dict[str, object] = {
        "llm_model": "fake-model", "openai_base_url": model.base_url, "openai_api_key": "test",
        "llm_intents": True, **overrides,
    }
    reader = ModelIntentReader.from_settings(PromptSet.load(), Settings(database_url="sqlite://", **options))  # type: ignore[arg-type]
    assert reader is not None
    return reader


def _with(plain: Router, reader: ModelIntentReader) -> Router:
    return Router(plain.shop, plain.linker, plain.classifier, reader)


def test_the_line_used_here_is_one_the_classifier_is_unsure_of(plain: Router) -> None:
    turn = plain.route(UNSURE, {})
    assert turn.source == "classifier" and turn.confidence < LLM_BELOW and turn.intent != "logistics"


def test_an_unsure_line_takes_the_topic_the_model_reads_and_leaves_masked(plain: Router, model: FakeOpenAI) -> None:
    router = _with(plain, _reader(model))
    model.script(Reply("logistics"))
    turn = router.route(UNSURE, {})
    assert (turn.intent, turn.source) == ("logistics", "llm")
    sent = model.chat_requests[-1].body
    system, user = sent["messages"]
    assert system["role"] == "system" and "logistics" in system["content"] and "confirm" not in system["content"]
    # The buyer's words (their request part, normalised) are the user message, masked; the
    # reply is held to a few tokens.
    assert user["role"] == "user" and user["content"].startswith("138****1111 ")
    assert "13800001111" not in str(sent)
    assert sent["temperature"] == 0 and sent["max_tokens"] == 8


def test_a_sure_line_never_reaches_the_model(plain: Router, model: FakeOpenAI) -> None:
    router = _with(plain, _reader(model))
    assert router.route("我的快递到哪了", {}).intent == "logistics"
    assert router.route("能开发票吗", {}).intent == "invoice"
    assert model.chat_requests == []


@pytest.mark.parametrize("answer", ["confirm", "deny", "delete_all_orders", "退款", ""])
def test_a_yes_a_no_or_anything_not_a_topic_leaves_the_classifier_reading(
    plain: Router, model: FakeOpenAI, answer: str
) -> None:
    router = _with(plain, _reader(model))
    model.script(Reply(answer))
    alone = plain.route(UNSURE, {})
    turn = router.route(UNSURE, {})
    assert len(model.chat_requests) == 1
    assert (turn.intent, turn.fine_intent, turn.source) == (alone.intent, alone.fine_intent, alone.source)


def test_while_a_change_waits_for_a_yes_the_model_cannot_confirm_it(plain: Router, model: FakeOpenAI) -> None:
    router = _with(plain, _reader(model))
    pending = {"pending": {"id": "act1", "kind": "refund", "intent": "refund"}}
    for text in ("嗯那个就按你说的那样办理", UNSURE):
        model.script(Reply("confirm"))
        assert router.route(text, pending).intent != "confirm"


def test_the_models_other_leaves_the_classifier_reading(plain: Router, model: FakeOpenAI) -> None:
    router = _with(plain, _reader(model))
    model.script(Reply("other"))
    assert router.route(UNSURE, {}).fine_intent == plain.route(UNSURE, {}).fine_intent


def test_a_label_the_model_explains_is_read_from_its_first_word() -> None:
    assert read_label("refund（买家想退款）") == "refund"
    assert read_label(" Logistics.") == "logistics"
    assert read_label("confirm") is None and read_label("我觉得是退款") is None
    assert read_label("deny, then refund") == "refund"


def test_a_failed_or_slow_model_leaves_the_classifier_reading_within_the_timeout(
    plain: Router, model: FakeOpenAI
) -> None:
    router = _with(plain, _reader(model, llm_intent_timeout_s=0.3))
    alone = plain.route(UNSURE, {})
    model.script(Reply.server_error())
    assert router.route(UNSURE, {}).fine_intent == alone.fine_intent
    model.script(Reply("logistics", delay_s=5.0))
    started = time.monotonic()
    turn = router.route(UNSURE, {})
    assert turn.fine_intent == alone.fine_intent and turn.source != "llm"
    assert time.monotonic() - started < 4.0  # the turn did not wait for the slow answer
    assert len(model.chat_requests) == 2  # no second try: the turn goes on


def test_with_every_slot_busy_a_line_is_not_sent(plain: Router, model: FakeOpenAI) -> None:
    reader = _reader(model, llm_concurrency=1, llm_intent_timeout_s=10)
    router = _with(plain, reader)
    model.script(Reply("logistics", delay_s=1.0))
    first = threading.Thread(target=router.route, args=(UNSURE, {}))
    first.start()
    deadline = time.monotonic() + 5
    while not model.chat_requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert model.chat_requests, "the first line reached the model"
    other = router.route("有个快递13900002222 咋回事", {})  # another unsure line, while the slot is taken
    first.join()
    assert other.source != "llm" and len(model.chat_requests) == 1 and reader.calls == 1


def test_a_line_read_once_is_not_sent_again(plain: Router, model: FakeOpenAI) -> None:
    reader = _reader(model)
    router = _with(plain, reader)
    model.script(Reply("logistics"))
    assert router.route(UNSURE, {}).intent == "logistics"
    assert router.route(UNSURE, {}).intent == "logistics"
    assert reader.calls == 1 and len(model.chat_requests) == 1


def test_the_service_asks_the_model_only_when_told_to(tmp_path: Path, model: FakeOpenAI) -> None:
    common = {"llm_model": "fake-model", "openai_base_url": model.base_url, "openai_api_key": "test"}
    off: Services = make_services(tmp_path / "off", **common)
    assert off.router.llm_fallback is None
    on: Services = make_services(tmp_path / "on", llm_intents=True, **common)
    assert isinstance(on.router.llm_fallback, ModelIntentReader)
    assert make_services(tmp_path / "none", llm_intents=True).router.llm_fallback is None  # no model, no reader
    model.script(Reply("logistics"))
    assert on.router.route(UNSURE, {}).source == "llm"


def test_a_turn_the_model_reads_runs_that_topics_flow_and_stores_the_line_first(tmp_path: Path, model: FakeOpenAI) -> None:
    services: Services = make_services(
        tmp_path, llm_intents=True, llm_model="fake-model", openai_base_url=model.base_url, openai_api_key="test",
    )
    cid = services.bot.start_conversation("b01")
    model.script(Reply("logistics"))
    turn = services.bot.handle(cid, "b01", UNSURE)
    assert turn.intent == "logistics" and turn.reply  # the logistics flow answered, no draft needed
    assert len(model.chat_requests) == 1 and "13800001111" not in str(model.chat_requests[0].body)
    stored = [m.text for m in services.conversations.messages(cid)]
    assert stored[0] == UNSURE
