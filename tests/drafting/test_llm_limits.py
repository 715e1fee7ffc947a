"""The model limit and the per-turn deadline, against a real OpenAI-compatible server.

Over the limit the template answers at once; past the deadline (regeneration included) the
template answers; either way the reason is recorded and the slot comes back.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.drafting.limits import ModelLimit
from bot.drafting.pipeline import Draft, DraftingPipeline
from bot.shop.models import Shop
from tests.drafting.helpers import pipeline, request
from tests.fakes.openai_server import FakeOpenAI, Reply

GOOD = "亲，这款龙井现在参加新茶上市85折，一件到手142.80元哦～"
BAD = "亲，这是全网最好的龙井，只要66元！"  # fails the ad-law and number guards
HUNG_S = 60.0  # longer than any test: only the deadline or the end of the test ends it
GENEROUS_S = 15.0  # a bound for "at once" that a loaded machine still meets


def _pipe(shop: Shop, server: FakeOpenAI, *, concurrency: int = 8, deadline: float = 30.0) -> DraftingPipeline:
    settings = Settings(
        llm_model="fake-model", openai_base_url=server.base_url, openai_api_key="test-key",  # type: ignore[arg-type]
        llm_timeout_s=120.0, llm_max_retries=0, llm_concurrency=concurrency, llm_deadline_s=deadline,
    )
    return pipeline(shop, settings)


def _price(shop: Shop):  # type: ignore[no-untyped-def]
    return request(shop, "龙井多少钱", "price_promotion", "T101")


async def _wait_for_requests(server: FakeOpenAI, n: int) -> None:
    for _ in range(int(GENEROUS_S / 0.02)):
        if len(server.chat_requests) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the model received {len(server.chat_requests)} requests, not {n}")


def test_a_limit_needs_a_slot_and_a_deadline() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        ModelLimit(0, 10)
    with pytest.raises(ValueError, match="deadline"):
        ModelLimit(4, 0)
    with pytest.raises(ValidationError):
        Settings(llm_concurrency=0)
    limit = ModelLimit(1, 5)
    assert limit.try_acquire() and not limit.try_acquire()
    limit.release()
    assert limit.try_acquire()


def test_the_awaited_path_drafts_with_the_model(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    fake_openai.script(GOOD)
    d = asyncio.run(_pipe(mini_shop, fake_openai).adraft(_price(mini_shop)))
    assert d.drafter == "llm" and d.text == GOOD and d.passed and d.fallback_reason is None


def test_the_awaited_path_regenerates_once_with_the_reasons(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    fake_openai.script(BAD, GOOD)
    d = asyncio.run(_pipe(mini_shop, fake_openai).adraft(_price(mini_shop)))
    assert d.drafter == "llm" and d.text == GOOD
    assert "ad_law" in fake_openai.chat_requests[1].body["messages"][0]["content"]


def test_over_the_limit_the_template_answers_at_once(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, concurrency=2, deadline=HUNG_S)
    fake_openai.script(*[Reply(GOOD, delay_s=HUNG_S)] * 2)

    async def run() -> tuple[list[Draft], float]:
        hung = [asyncio.create_task(pipe.adraft(_price(mini_shop))) for _ in range(2)]
        await _wait_for_requests(fake_openai, 2)
        t0 = time.perf_counter()
        over = await asyncio.gather(*(pipe.adraft(_price(mini_shop)) for _ in range(5)))
        elapsed = time.perf_counter() - t0
        assert pipe.limit is not None and pipe.limit.in_use == 2
        for task in hung:
            task.cancel()
        await asyncio.gather(*hung, return_exceptions=True)
        return list(over), elapsed

    over, elapsed = asyncio.run(run())
    assert elapsed < GENEROUS_S
    assert all(d.drafter == "template" and d.passed for d in over)
    assert all((d.fallback_reason or "").startswith("model busy") for d in over)
    assert "142.80" in over[0].text
    assert len(fake_openai.chat_requests) == 2  # the over-limit turns never reached the model
    assert pipe.limit is not None and pipe.limit.in_use == 0


def test_a_hung_model_is_cut_off_at_the_deadline(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, deadline=0.5)
    fake_openai.script(Reply(GOOD, delay_s=HUNG_S))
    t0 = time.perf_counter()
    d = asyncio.run(pipe.adraft(_price(mini_shop)))
    assert time.perf_counter() - t0 < GENEROUS_S
    assert d.drafter == "template" and (d.fallback_reason or "").startswith("deadline")
    assert "regenerating" not in (d.fallback_reason or "")
    assert pipe.limit is not None and pipe.limit.in_use == 0


def test_the_deadline_covers_the_regeneration(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, deadline=1.0)
    fake_openai.script(BAD, Reply(GOOD, delay_s=HUNG_S))
    t0 = time.perf_counter()
    d = asyncio.run(pipe.adraft(_price(mini_shop)))
    assert time.perf_counter() - t0 < GENEROUS_S
    assert len(fake_openai.chat_requests) == 2
    assert d.drafter == "template" and d.passed
    assert (d.fallback_reason or "").startswith("deadline") and "regenerating" in (d.fallback_reason or "")


def test_the_blocking_path_shares_the_limit(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, concurrency=1)
    assert pipe.limit is not None and pipe.limit.try_acquire()  # a draft already with the model
    d = pipe.draft(_price(mini_shop))
    assert d.drafter == "template" and (d.fallback_reason or "").startswith("model busy")
    assert not fake_openai.chat_requests
    pipe.limit.release()
    fake_openai.script(GOOD)
    assert pipe.draft(_price(mini_shop)).drafter == "llm"


def test_the_blocking_path_waits_no_longer_than_the_deadline(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, deadline=0.5)
    fake_openai.script(Reply(GOOD, delay_s=HUNG_S))
    t0 = time.perf_counter()
    d = pipe.draft(_price(mini_shop))
    assert time.perf_counter() - t0 < GENEROUS_S
    assert d.drafter == "template" and (d.fallback_reason or "").startswith("deadline")


def test_a_busy_model_streams_the_template_draft_at_once(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, concurrency=1)
    done: list[Draft] = []
    assert pipe.limit is not None and pipe.limit.try_acquire()

    async def run() -> list[str]:
        return [t async for t in pipe.astream(_price(mini_shop), on_done=done.append)]

    tokens = asyncio.run(run())
    pipe.limit.release()
    assert tokens == [done[0].text] and "142.80" in done[0].text
    assert done[0].drafter == "template" and (done[0].fallback_reason or "").startswith("model busy")
    assert not fake_openai.chat_requests


def test_a_stream_that_stalls_ends_at_the_deadline(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai, deadline=1.0)
    fake_openai.script(Reply(GOOD, chunk_chars=4, chunk_delay_s=HUNG_S))
    done: list[Draft] = []

    async def run() -> list[str]:
        return [t async for t in pipe.astream(_price(mini_shop), on_done=done.append)]

    t0 = time.perf_counter()
    tokens = asyncio.run(run())
    assert time.perf_counter() - t0 < GENEROUS_S
    assert tokens == [GOOD[:4]]  # what the model wrote before it stalled
    assert done[0].drafter == "template" and (done[0].fallback_reason or "").startswith("deadline")
    assert pipe.limit is not None and pipe.limit.in_use == 0


def test_a_stream_left_unfinished_gives_its_slot_back(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    pipe = _pipe(mini_shop, fake_openai)
    fake_openai.script(Reply(GOOD, chunk_chars=2))

    async def run() -> None:
        tokens = pipe.astream(_price(mini_shop))
        assert await anext(tokens)
        assert pipe.limit is not None and pipe.limit.in_use == 1
        await tokens.aclose()  # the console went away mid-draft

    asyncio.run(run())
    assert pipe.limit is not None and pipe.limit.in_use == 0
