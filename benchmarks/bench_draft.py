"""Drafting figures: the time the pipeline adds before the first token reaches the agent,
template draft latency, and guard latency.

    .venv/bin/python -m benchmarks.bench_draft [--shop knowledge] [--runs 50] [--model-delay-ms 50]

The model is the scripted OpenAI-compatible server of the tests (tests/fakes/openai_server.py),
so "the model" is a fixed delay; the added time is the pipeline's time-to-first-token minus
the raw openai client's time-to-first-token against the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.drafting.pipeline import DraftRequest, build_pipeline
from bot.guards import check_reply
from bot.retrieval.linker import EntityLinker
from bot.shop import load_shop
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.retriever import FakeRetriever

QUESTIONS = [
    ("product_info", "这件T恤起球吗"), ("size_advice", "175cm 70kg穿什么码"), ("stock", "黑色L码还有货吗"),
    ("price_promotion", "买两件多少钱"), ("price_promotion", "有什么优惠"), ("shipping_policy", "满多少包邮"),
    ("invoice", "能开发票吗"), ("recommendation", "有没有搭配的裤子推荐"), ("product_info", "是哪个工厂生产的"),
]
REPLY = "亲，这款现在有货的，喜欢可以放心拍～"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def retriever_for(shop):  # type: ignore[no-untyped-def]
    """The real hybrid retriever when it is available, else the tests' lexical one."""
    try:
        from bot.retrieval import open_retriever  # type: ignore[attr-defined]

        return open_retriever(shop, Settings(), persist_dir=None), "hybrid (in-memory)"
    except ImportError:
        return FakeRetriever(shop), "lexical fake"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shop", type=Path, default=Path("knowledge"))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--model-delay-ms", type=float, default=50.0)
    args = ap.parse_args()
    shop = load_shop(args.shop)
    now = datetime.now(shop.tz)
    retriever, kind = retriever_for(shop)
    linker = EntityLinker(shop)
    buyer = next(iter(shop.buyers.values()))
    product = next(iter(shop.products))

    def req(intent: str, q: str) -> DraftRequest:
        return DraftRequest(conversation_id="bench", buyer=buyer, question=q, intent=intent,
                            entities={"product_ids": [product]}, history=[("buyer", "你好"), ("bot", "亲，在的～")], now=now)

    print(f"shop={shop.info.name} products={len(shop.products)} retriever={kind} runs={args.runs}")

    # 1. Template drafter, end to end (facts + template + guards).
    offline = build_pipeline(shop, Settings(llm_model=None), retriever, linker)
    offline.draft(req(*QUESTIONS[0]))  # warm caches (jieba, word lists)
    totals, facts_ms = [], []
    for _ in range(max(1, args.runs // len(QUESTIONS))):
        for intent, q in QUESTIONS:
            t0 = time.perf_counter()
            d = offline.draft(req(intent, q))
            totals.append((time.perf_counter() - t0) * 1000)
            facts_ms.append(d.timings_ms["facts"])
    print(f"template draft: p50 {statistics.median(totals):.2f} ms, p95 {pct(totals, 95):.2f} ms "
          f"(facts p50 {statistics.median(facts_ms):.2f} ms) over {len(totals)} drafts")

    # 2. Guards.
    text = "亲，这款现在参加满199减20，2件到手价118.00元，再凑81.00元就能再减，您看是黑色还是白色呢？"
    facts = {"quote": {"total": "118.00", "gaps": [{"missing": "81.00", "threshold": "199.00"}]}, "x": "20 2"}
    check_reply(text, facts, shop, buyer=buyer)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        check_reply(text, facts, shop, buyer=buyer)
    print(f"check_reply: {(time.perf_counter() - t0) / n * 1e6:.0f} µs per reply")

    # 3. Time added before the first token.
    import openai

    delay = args.model_delay_ms / 1000
    with FakeOpenAI() as server:
        settings = Settings(llm_model="fake", openai_base_url=server.base_url, openai_api_key="k", llm_max_retries=0)
        online = build_pipeline(shop, settings, retriever, linker)
        raw = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)

        async def raw_ttft() -> float:
            t0 = time.perf_counter()
            stream = await raw.chat.completions.create(model="fake", messages=[{"role": "user", "content": "hi"}], stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    dt = time.perf_counter() - t0
                    async for _ in stream:
                        pass
                    return dt * 1000
            return float("nan")

        async def pipe_ttft(intent: str, q: str) -> float:
            t0 = time.perf_counter()
            first: float | None = None
            async for _tok in online.astream(req(intent, q)):
                if first is None:
                    first = (time.perf_counter() - t0) * 1000
            return first if first is not None else float("nan")

        async def run() -> tuple[list[float], list[float]]:
            base, pipe = [], []
            server.script(Reply(REPLY), Reply(REPLY))
            await raw_ttft()
            await pipe_ttft(*QUESTIONS[0])  # warm up both paths
            for i in range(args.runs):
                intent, q = QUESTIONS[i % len(QUESTIONS)]
                server.script(Reply(REPLY, delay_s=delay), Reply(REPLY, delay_s=delay))
                base.append(await raw_ttft())
                pipe.append(await pipe_ttft(intent, q))
            return base, pipe

        base, pipe = asyncio.run(run())
    added = [p - b for p, b in zip(pipe, base)]
    print(f"first token, raw openai client: p50 {statistics.median(base):.2f} ms (model delay {args.model_delay_ms:.0f} ms)")
    print(f"first token, drafting pipeline: p50 {statistics.median(pipe):.2f} ms, p95 {pct(pipe, 95):.2f} ms")
    print(f"added by the pipeline before the first token: p50 {statistics.median(added):.2f} ms, "
          f"p95 {pct(added, 95):.2f} ms (target <= 20 ms)")


if __name__ == "__main__":
    main()
