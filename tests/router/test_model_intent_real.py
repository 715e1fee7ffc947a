"""The model's reading of an unsure line against a real OpenAI-compatible server: llama.cpp
serving the ``real-model`` extra's Gemma 3 270M (a base model: it rarely writes a label). The
server takes the request as the reader sends it, the answer is held to its few tokens, and
whatever the model writes, the router's reading is a topic or the classifier's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.drafting.prompts import PromptSet
from bot.router.model_intent import ANSWERABLE, ModelIntentReader
from bot.router.router import Router, build_router
from bot.shop import load_shop
from tests import llama_server

_MISSING = llama_server.missing()
pytestmark = [
    pytest.mark.real_model,
    pytest.mark.skipif(_MISSING is not None, reason=_MISSING or ""),
    pytest.mark.timeout(600),
]
KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
LINES = ("13800001111 咋回事", "我那个东西咋整", "帮我看看这个怎么弄")


@pytest.fixture(scope="module")
def reader() -> Iterator[ModelIntentReader]:
    with llama_server.LlamaServer(llama_server.model_path()) as server:
        settings = Settings(
            database_url="sqlite://", llm_model=server.alias, openai_base_url=server.base_url,
            llm_intents=True, llm_intent_timeout_s=120,
        )
        built = ModelIntentReader.from_settings(PromptSet.load(), settings)
        assert built is not None
        yield built


def test_the_server_answers_the_readers_request_within_its_few_tokens(reader: ModelIntentReader) -> None:
    for line in LINES:
        message = reader.chat.invoke(reader.messages(line))
        usage = message.response_metadata["token_usage"]
        assert 0 < usage["completion_tokens"] <= 8, usage
        assert usage["prompt_tokens"] > 200  # the list of topics went with the line


def test_whatever_a_real_model_writes_the_reading_is_a_topic_or_the_classifiers(reader: ModelIntentReader) -> None:
    plain = build_router(load_shop(KNOWLEDGE))
    router = Router(plain.shop, plain.linker, plain.classifier, reader)
    for line in LINES:
        turn = router.route(line, {})
        alone = plain.route(line, {})
        if turn.source == "llm":
            assert turn.intent in ANSWERABLE and turn.intent not in ("other", "confirm", "deny")
        else:
            assert (turn.intent, turn.fine_intent) == (alone.intent, alone.fine_intent)
    assert reader.calls >= 1
