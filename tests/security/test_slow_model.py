"""A slow model cannot stall the service.

The app runs under uvicorn on loopback over the demo shop, with the model served by the
tests' OpenAI-compatible server. Many drafting turns hang at the model; ``/healthz`` and
order-status turns still answer, turns over the model limit get the template draft at once
with the reason recorded, and the deadline ends a hung draft.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bot.clock import FrozenClock
from bot.config import Settings
from bot.engine import TURN_THREADS, Bot
from bot.ids import SequentialIds
from bot.services import Services, build_services
from bot.suggestions.service import Suggestion
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.live_server import serving

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
PRODUCT_QUESTION = "这件卫衣起球吗"  # needs a draft
ORDER_QUESTION = "我的订单7001到哪了"  # answered by the flows (7001 is b01's)
HUNG_S = 120.0  # longer than any test: only the deadline or the end of the test ends it
# "At once" and "quickly", with room for a loaded 2-core machine; a turn stuck behind the
# hung calls would take the whole hang (minutes), not seconds.
GENEROUS_S = 20.0


@dataclass
class App:
    url: str
    services: Services
    model: FakeOpenAI
    tokens: dict[str, str]

    def chat(self, buyer: str, text: str, timeout: float = HUNG_S + 30) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/api/chat", json={"text": text},
            headers={"Authorization": f"Bearer {self.tokens[buyer]}"}, timeout=timeout,
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def suggestion(self, turn: dict[str, Any]) -> Suggestion:
        found = self.services.suggestions.get(turn["suggestion_id"])
        assert found is not None
        return found


@contextmanager
def running_app(data_dir: Path, **settings: Any) -> Iterator[App]:
    """The real app with a model, under uvicorn on a free loopback port."""
    from bot.api.app import create_app

    with FakeOpenAI() as model:
        config = Settings(
            shop_dir=KNOWLEDGE, data_dir=data_dir, reply_mode="assist", embedding_model=None,
            demo=True, demo_login=True, rate_limits=False, secret_key="slow-model-tests-" + "k" * 32,
            llm_model="fake-model", openai_base_url=model.base_url, openai_api_key="test-key",  # type: ignore[arg-type]
            llm_timeout_s=HUNG_S * 2, llm_max_retries=0, **settings,
        )
        services = build_services(config, ephemeral=True)
        with serving(create_app(config, services), name="xiaoer-slow-model", stop_s=30,
                     timeout_graceful_shutdown=5) as url:
            tokens = {
                b: httpx.post(f"{url}/api/auth/demo-login", json={"buyer_id": b}, timeout=10).json()["token"]
                for b in services.shop.buyers
            }
            try:
                yield App(url, services, model, tokens)
            finally:
                model.stop()  # hung model calls end (the connection closes) before the app stops


def _until(done: Callable[[], bool], failure: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(failure)


def _hang(app: App, pool: ThreadPoolExecutor, n: int) -> list[Future[dict[str, Any]]]:
    """``n`` drafting turns whose model calls hang, spread over the shop's buyers."""
    app.model.script(*[Reply("亲，这款卫衣不易起球哦～", delay_s=HUNG_S)] * n)
    buyers = list(app.tokens)
    return [pool.submit(app.chat, buyers[i % len(buyers)], PRODUCT_QUESTION) for i in range(n)]


def _quick(call: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = call()
    assert time.perf_counter() - t0 < GENEROUS_S
    return out


def test_hung_model_calls_leave_plain_turns_and_healthz_alone(tmp_path: Path) -> None:
    # The limit is above the number of hung calls: every drafting turn is really waiting on
    # the model, as in the attack, and nothing is turned away.
    with running_app(tmp_path, llm_concurrency=64, llm_deadline_s=HUNG_S) as app, ThreadPoolExecutor(60) as pool:
        hung = _hang(app, pool, 45)
        _until(lambda: len(app.model.chat_requests) >= 45, "the drafting turns did not reach the model")
        assert app.services.drafting.limit is not None and app.services.drafting.limit.in_use == 45

        for _ in range(5):
            health = _quick(lambda: httpx.get(f"{app.url}/healthz", timeout=GENEROUS_S))
            assert health.status_code == 200 and health.json()["status"] == "ok"
            turn = _quick(lambda: app.chat("b01", ORDER_QUESTION, timeout=GENEROUS_S))
            assert turn["intent"] in ("logistics", "order_status") and "7001" in turn["reply"]
            assert turn["delivered"] is True
        assert not any(f.done() for f in hung)  # the model calls were still hanging meanwhile

        app.model.stop()  # the model goes away: every hung turn still gets an answer
        for f in hung:
            turn = f.result(timeout=GENEROUS_S * 3)
            suggestion = app.suggestion(turn)
            assert suggestion.drafter == "template"
            assert (suggestion.fallback_reason or "").startswith("model error")


def test_hung_drafts_of_a_question_beside_an_order_leave_other_turns_alone(tmp_path: Path) -> None:
    # More two-question turns than the bot has worker threads, each with its second question
    # hanging at the model: the order parts are answered, and another buyer is answered too.
    with running_app(tmp_path, llm_concurrency=64, llm_deadline_s=HUNG_S) as app, ThreadPoolExecutor(20) as pool:
        shop = app.services.shop
        askers = [b for b in sorted(shop.buyers) if b != "b01"][: TURN_THREADS + 4]
        first_order = {b: next(o.tid for o in shop.orders if o.buyer == b) for b in askers}
        app.model.script(*[Reply("亲，这款卫衣不易起球哦～", delay_s=HUNG_S)] * len(askers))
        hung = [
            pool.submit(app.chat, b, f"我的订单{first_order[b]}到哪了 顺便问下这件卫衣起球吗") for b in askers
        ]
        _until(lambda: len(app.model.chat_requests) >= len(askers), "the questions beside did not reach the model")

        turn = _quick(lambda: app.chat("b01", ORDER_QUESTION, timeout=GENEROUS_S))
        assert turn["intent"] in ("logistics", "order_status") and "7001" in turn["reply"]
        assert not any(f.done() for f in hung)

        app.model.stop()
        for b, f in zip(askers, hung, strict=True):
            turn = f.result(timeout=GENEROUS_S * 3)
            assert turn["intent"] in ("logistics", "order_status") and first_order[b] in turn["reply"]
        drafted = app.services.suggestions.list(status="pending", limit=100)
        assert len([s for s in drafted if s.intent == "product_info"]) == len(askers)


def test_turns_over_the_model_limit_get_the_template_at_once(tmp_path: Path) -> None:
    with running_app(tmp_path, llm_concurrency=3, llm_deadline_s=HUNG_S) as app, ThreadPoolExecutor(8) as pool:
        app.model.script(Reply.server_error())
        answer = app.suggestion(app.chat("b02", PRODUCT_QUESTION)).draft  # the template's, passes the guards
        # Three slow model calls hold every slot while the turns below arrive.
        app.model.script(*[Reply(answer, delay_s=5)] * 3, Reply(answer))
        slow = [pool.submit(app.chat, "b02", PRODUCT_QUESTION) for _ in range(3)]
        _until(lambda: len(app.model.chat_requests) >= 4, "the drafting turns did not reach the model")

        over = [_quick(lambda: app.chat("b04", PRODUCT_QUESTION, timeout=GENEROUS_S)) for _ in range(4)]
        for turn in over:
            assert turn["suggestion_id"] and turn["delivered"] is False  # assist: it waits for an agent
            suggestion = app.suggestion(turn)
            assert suggestion.drafter == "template" and suggestion.draft
            assert (suggestion.fallback_reason or "").startswith("model busy")
        assert len(app.model.chat_requests) == 4  # none of them reached the model

        # The slow calls finish; their slots come back and the next turn drafts with the model.
        assert all(app.suggestion(f.result(timeout=GENEROUS_S * 3)).drafter == "llm" for f in slow)
        assert app.services.drafting.limit is not None and app.services.drafting.limit.in_use == 0
        after = app.suggestion(app.chat("b02", PRODUCT_QUESTION, timeout=GENEROUS_S))
        assert after.drafter == "llm" and after.fallback_reason is None


def test_the_deadline_ends_a_hung_draft(tmp_path: Path) -> None:
    with running_app(tmp_path, llm_deadline_s=1.5) as app:
        app.model.script(Reply("亲，这款卫衣不易起球哦～", delay_s=HUNG_S))
        turn = _quick(lambda: app.chat("b03", PRODUCT_QUESTION, timeout=GENEROUS_S))
        suggestion = app.suggestion(turn)
        assert suggestion.drafter == "template" and suggestion.draft
        assert (suggestion.fallback_reason or "").startswith("deadline")
        assert app.services.drafting.limit is not None and app.services.drafting.limit.in_use == 0
        health = httpx.get(f"{app.url}/healthz", timeout=GENEROUS_S)
        assert health.status_code == 200


def test_an_awaited_turn_that_fails_still_stores_the_message_and_hands_over(tmp_path: Path) -> None:
    services = build_services(
        Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path), clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True
    )

    class Broken:
        def handle(self, state: dict[str, Any], buyer_id: str, text: str) -> Any:
            raise RuntimeError("boom")

    bot = Bot(
        services.shop, services.conversations, Broken(), services.drafting,  # type: ignore[arg-type]
        services.suggestions, services.events, services.clock, services.ids,
    )
    cid = bot.start_conversation("b02")
    turn = asyncio.run(bot.ahandle(cid, "b02", PRODUCT_QUESTION))
    assert turn.handoff and "人工" in turn.reply
    assert [m.text for m in services.conversations.messages(cid)][0] == PRODUCT_QUESTION
    waiting = services.conversations.get(cid)
    assert waiting is not None and waiting.status == "waiting" and waiting.summary
