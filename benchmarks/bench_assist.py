"""The assist loop's figures: time to first token, and how long a buyer waits for a first reply
with and without an agent.

    .venv/bin/python -m benchmarks.bench_assist [--turns 10] [--chunk-ms 40]

In process, over the demo shop (SQLite in a temp dir, in-memory retrieval index):

* **time to first token** — a product question drafted by the model (the scripted
  OpenAI-compatible server of the tests, streaming two characters per chunk ``--chunk-ms``
  apart): from the buyer's message to the first ``draft.delta`` event on the bus, and to the
  whole guarded draft;
* **buyer wait, no agent** — the offline drafter, a reply policy of ``hold_s=1, wait_s=3`` and
  the scheduler ticking every 0.25 s on the wall clock: from the message to the holding
  message and to the draft itself (the shop's own policy scales these: first reply within
  ``hold_s`` + one scheduler tick);
* **buyer wait, an agent on duty** — an agent who accepts each draft the moment it arrives
  (``suggestion.created``): from the message to the accepted reply stored for the buyer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.services import Services, build_services
from bot.shop import load_shop
from bot.shop.models import ReplyPolicy
from tests.fakes.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
MODEL_TEXT = "亲，这款T恤是纯棉面料，日常穿着不易起球，透气又舒服哦～"
BUYERS = ["b01", "b02", "b03", "b04", "b05", "b06", "b07", "b08"]


def _services(data_dir: Path, policy: ReplyPolicy | None = None, **settings: Any) -> Services:
    shop = load_shop(ROOT / "knowledge")
    if policy is not None:
        shop.info.reply_policy = policy
    return build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=data_dir, reply_mode="assist", rate_limits=False, **settings),
        shop=shop, ephemeral=True,
    )


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(values)})"


async def _first_token(services: Services, model: FakeOpenAI, turns: int, chunk_s: float) -> tuple[list[float], list[float]]:
    first, whole = [], []
    queue = services.events.subscribe()
    try:
        for i in range(turns):
            model.script(Reply(MODEL_TEXT, chunk_chars=2, chunk_delay_s=chunk_s), Reply(MODEL_TEXT))
            buyer = BUYERS[i % len(BUYERS)]
            cid = services.bot.start_conversation(buyer)
            while not queue.empty():
                queue.get_nowait()
            t0 = time.perf_counter()
            turn = asyncio.create_task(services.bot.ahandle(cid, buyer, QUESTION))
            seen = None
            while seen is None:
                event = await queue.get()
                if event["kind"] == "draft.delta" and event["data"].get("conversation_id") == cid:
                    seen = time.perf_counter() - t0
            await turn
            first.append(seen)
            whole.append(time.perf_counter() - t0)
    finally:
        services.events.unsubscribe(queue)
    return first, whole


async def _until(services: Services, cid: str, count: int, t0: float, limit_s: float = 30.0) -> float:
    while time.perf_counter() - t0 < limit_s:
        replies = [m for m in services.conversations.messages(cid) if m.role in ("bot", "agent")]
        if len(replies) >= count:
            return time.perf_counter() - t0
        await asyncio.sleep(0.02)
    raise TimeoutError("no reply within the limit")


async def _no_agent(services: Services, turns: int) -> tuple[list[float], list[float]]:
    stop = asyncio.Event()
    ticking = asyncio.create_task(services.scheduler.run_forever(0.25, stop))
    hold, answer = [], []
    try:
        for i in range(turns):
            buyer = BUYERS[i % len(BUYERS)]
            cid = services.bot.start_conversation(buyer)
            t0 = time.perf_counter()
            await services.bot.ahandle(cid, buyer, QUESTION)
            hold.append(await _until(services, cid, 1, t0))
            answer.append(await _until(services, cid, 2, t0))
    finally:
        stop.set()
        await ticking
    return hold, answer


async def _with_agent(services: Services, turns: int) -> list[float]:
    waits = []
    queue = services.events.subscribe()
    try:
        for i in range(turns):
            buyer = BUYERS[i % len(BUYERS)]
            cid = services.bot.start_conversation(buyer)
            t0 = time.perf_counter()
            await services.bot.ahandle(cid, buyer, QUESTION)
            while True:
                event = await queue.get()
                if event["kind"] == "suggestion.created" and event["data"].get("conversation_id") == cid:
                    break
            decided = await asyncio.to_thread(services.suggestions.accept, event["data"]["id"], "demo")
            await asyncio.to_thread(services.bot.desk.deliver, decided)
            waits.append(await _until(services, cid, 1, t0))
    finally:
        services.events.unsubscribe(queue)
    return waits


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--chunk-ms", type=float, default=40.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as model:
        llm = _services(Path(tmp) / "llm", llm_model="fake-model", openai_base_url=model.base_url, openai_api_key="test")
        first, whole = await _first_token(llm, model, args.turns, args.chunk_ms / 1000)
        print(f"time to first token (model, {args.chunk_ms:.0f} ms per 2-character chunk, {len(MODEL_TEXT)} characters)")
        print(f"  first draft.delta      {_ms(first)}")
        print(f"  whole guarded draft    {_ms(whole)}")

        offline = _services(Path(tmp) / "offline", ReplyPolicy(hold_s=1, wait_s=3))
        hold, answer = await _no_agent(offline, max(3, args.turns // 2))
        print("buyer wait, no agent (hold_s=1, wait_s=3, scheduler tick 0.25 s)")
        print(f"  holding message        {_ms(hold)}")
        print(f"  the draft itself       {_ms(answer)}")

        staffed = _services(Path(tmp) / "staffed")
        waits = await _with_agent(staffed, args.turns)
        print("buyer wait, an agent accepting each draft as it arrives")
        print(f"  accepted reply         {_ms(waits)}")


if __name__ == "__main__":
    asyncio.run(main())
