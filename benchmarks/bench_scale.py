"""Cost against shop size and history length.

Generates shops of 1k, 10k and 50k products (the demo's products cloned under new titles,
written in the shop format into a temporary directory, see ``benchmarks/scale_shop.py``)
and, for each, starts the services twice in a fresh process: cold (empty data directory)
and warm (the data directory of the cold start). The warm process then replays the buyer
lines of the in-house suites (``eval/sales``, ``eval/aftersales``, ``eval/context``) and
prints per-stage costs (normalise, understand, flow, facts, draft, guards, store), p50/p95
per intent, idle RSS and start times, with the growth exponent between sizes
(``log(cost_b / cost_a) / log(size_b / size_a)``: 0 is flat, 1 grows with the shop).

A data directory with ``--messages`` stored messages (default 1M) then gives the console
queue's first page over HTTP (``GET /api/agent/conversations``), and one conversation of
300 turns the cost of turn 300 against turn 3.
``--quick`` (1k and 5k products, 100k messages, one round) is the CI smoke run.
``--only-history`` skips the shop sizes; ``--history-shop knowledge`` runs the history and
the queue on the demo shop instead of the smallest generated one. ``--components`` prints,
per size, the memory and time each start-up component adds to a warm start instead.

Run: .venv/bin/python benchmarks/bench_scale.py [--quick] [--sizes 1000 10000 50000]
     .venv/bin/python benchmarks/bench_scale.py --only-history --history-shop knowledge --messages 1000000
     .venv/bin/python benchmarks/bench_scale.py --components --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the project root holds ``bot`` and this folder
    sys.path.insert(0, str(ROOT))

from benchmarks.scale_shop import fill_messages, generate_shop  # noqa: E402

SUITES = ("sales", "aftersales", "context")
STAGES = ("normalise", "understand", "flow", "facts", "draft", "guards", "store")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


REFERENCE_LOOP = 1_000_000


def reference_ms() -> float:
    """CPU ms of a fixed pure-Python loop: how fast the machine runs a tight loop right now,
    which on a shared virtual machine moves from one minute to the next without the load
    average showing it. It does not see contention for caches and memory, which moves a
    turn's cost too: a steady figure here does not make two runs comparable."""
    t = time.process_time()
    s = 0
    for i in range(REFERENCE_LOOP):
        s += i * i
    return (time.process_time() - t) * 1000


# --- the buyer lines -------------------------------------------------------------------------


def cases() -> list[dict[str, Any]]:
    """Cases of the in-house suites on the demo shop: buyer, now and the lines with their
    expected intent."""
    import yaml

    out = []
    for suite in SUITES:
        for path in sorted((ROOT / "eval" / suite).glob("*.yaml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            for case in doc.get("cases", []):
                turns = [
                    (str(t["user"]), _intent((t.get("expect") or {}).get("intent")))
                    for t in case.get("turns", []) if "user" in t
                ]
                if turns:
                    out.append({
                        "buyer": case.get("buyer", "b01"),
                        "now": str(case.get("now", doc.get("now"))),
                        "turns": turns,
                    })
    return out


def _intent(expected: Any) -> str:
    if isinstance(expected, list):  # either of several intents is right
        return "/".join(str(i) for i in expected)
    return str(expected) if expected else "(any)"


# --- per-stage timing ------------------------------------------------------------------------


class Stages:
    """Wall time per stage of the turns, from wrappers on the components' entry points."""

    def __init__(self) -> None:
        self.turn: dict[str, float] = defaultdict(float)
        self.totals: dict[str, list[float]] = defaultdict(list)
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth[stage]:
                return original(*args, **kwargs)
            self._depth[stage] += 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.turn[stage] += (time.perf_counter() - t0) * 1000
                self._depth[stage] -= 1

        setattr(owner, name, timed)

    def end_turn(self) -> None:
        # A flow's time is the dialogue manager's minus the routing inside it.
        self.turn["flow"] = max(0.0, self.turn.get("flow", 0.0) - self.turn.get("understand", 0.0))
        for stage in STAGES:
            self.totals[stage].append(self.turn.get(stage, 0.0))
        self.turn = defaultdict(float)


def instrument(services: Any) -> Stages:
    import bot.engine

    st = Stages()
    st.wrap(services.router, "route", "understand")
    st.wrap(services.dialogue, "handle", "flow")
    st.wrap(services.drafting.facts, "build", "facts")
    st.wrap(services.drafting.template, "draft", "draft")
    st.wrap(services.drafting, "_check", "guards")
    st.wrap(bot.engine, "check_reply", "guards")
    for name in ("get", "add_message", "save_state", "set_status", "add_turn", "messages", "recent", "recent_lines"):
        if hasattr(services.conversations, name):
            st.wrap(services.conversations, name, "store")
    st.wrap(services.suggestions, "create", "store")
    return st


# --- one process: start, then turns ----------------------------------------------------------


def child(shop_dir: Path, data_dir: Path, rounds: int, turns: bool) -> dict[str, Any]:
    """Start the services on ``shop_dir`` with ``data_dir``; with ``turns``, replay the lines."""
    t0 = time.perf_counter()
    from bot.config import Settings
    from bot.services import build_services
    from bot.text.normalize import normalize

    settings = Settings(shop_dir=shop_dir, data_dir=data_dir, database_url=None)
    services = build_services(settings, eval_mode=True, serving=True)  # as a server starts
    out: dict[str, Any] = {"start_s": time.perf_counter() - t0, "rss_mb": rss_mb(), "load": load(),
                           "reference_ms": reference_ms()}
    if not turns:
        return out
    stages = instrument(services)
    bot = services.bot
    per_intent: dict[str, list[float]] = defaultdict(list)
    everything: list[float] = []
    passes: list[list[float]] = []  # each pass's turns: the first meets every cache empty
    for _ in range(rounds):
        passes.append([])
        for case in cases():
            services.clock.set(datetime.fromisoformat(case["now"]))  # type: ignore[attr-defined]
            cid = bot.start_conversation(case["buyer"])
            for text, intent in case["turns"]:
                t = time.perf_counter()
                normalize(text)
                stages.turn["normalise"] += (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                bot.handle(cid, case["buyer"], text)
                ms = (time.perf_counter() - t) * 1000
                stages.end_turn()
                per_intent[intent].append(ms)
                everything.append(ms)
                passes[-1].append(ms)
    out["turns"] = len(everything)
    out["p50_ms"] = pct(everything, 50)
    out["p95_ms"] = pct(everything, 95)
    out["mean_ms"] = statistics.fmean(everything)
    out["passes"] = [(pct(v, 95), statistics.fmean(v)) for v in passes if v]
    out["per_intent"] = {i: (len(v), pct(v, 50), pct(v, 95)) for i, v in sorted(per_intent.items())}
    out["stages"] = {s: (statistics.fmean(v), pct(v, 95)) for s, v in stages.totals.items()}
    out["load_after"] = load()
    out["reference_after_ms"] = reference_ms()
    out["rss_after_mb"] = rss_mb()  # with what the turns built (chroma's HNSW index, caches)
    return out


def components(shop_dir: Path, data_dir: Path) -> list[tuple[str, float, float]]:
    """Build the start-up components one by one on a warm ``data_dir`` (as ``build_services``
    does) and return (component, MB of RSS it added, seconds). Memory is measured after a
    garbage collection and glibc's ``malloc_trim``, so freed memory does not count."""
    import ctypes
    import gc

    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)

    def rss() -> float:
        gc.collect()
        if trim is not None:
            trim(0)
        return rss_mb()

    steps: list[tuple[str, float, float]] = []
    last, t = rss(), time.perf_counter()

    def step(name: str) -> None:
        nonlocal last, t
        now = rss()
        steps.append((name, now - last, time.perf_counter() - t))
        last, t = now, time.perf_counter()

    import bot.drafting.pipeline
    import bot.flows.dialogue
    import bot.retrieval.hybrid
    import bot.router.router
    import bot.services  # noqa: F401
    import chromadb  # noqa: F401

    step("imports")
    from bot.config import Settings
    from bot.drafting.pipeline import build_pipeline
    from bot.retrieval.embedders import make_embedder
    from bot.retrieval.hybrid import HybridRetriever
    from bot.retrieval.linker import EntityLinker
    from bot.retrieval.passages import build_passages
    from bot.retrieval.store import IndexStore
    from bot.retrieval.vocab import shop_tokenizer
    from bot.router.router import build_router
    from bot.shop import load_shop

    settings = Settings(shop_dir=shop_dir, data_dir=data_dir, database_url=None)
    shop = load_shop(shop_dir, cache_dir=data_dir / "cache")
    step("shop models")
    tokenizer = shop_tokenizer(shop)
    step("shop tokenizer (jieba)")
    embedder = make_embedder(settings)
    store = IndexStore.open(shop, embedder, settings.chroma_dir)
    step("chroma client")
    passages = build_passages(shop)
    snapshot, _ = store.ingest(shop, passages, tokenizer, embedder)
    del passages
    step("retrieval snapshot")
    linker = EntityLinker(shop, tokenizer=tokenizer)
    retriever = HybridRetriever(store, snapshot, tokenizer, embedder, linker=linker)
    step("entity linker")
    build_router(shop, cache_dir=data_dir / "router", linker=linker)
    step("router")
    build_pipeline(shop, settings, retriever, linker, None)
    step("drafting pipeline")
    steps.append(("total RSS", rss(), 0.0))
    return steps


def run_child(shop_dir: Path, data_dir: Path, rounds: int, turns: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(shop_dir), str(data_dir), str(rounds), "1" if turns else "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- history and the console queue -----------------------------------------------------------


def history_and_queue(shop_dir: Path, data_dir: Path, messages: int) -> dict[str, Any]:
    """Turn 300 against turn 3 of one conversation, and the console queue's first page with
    ``messages`` stored messages (over HTTP, through the app)."""
    from fastapi.testclient import TestClient

    from bot.api.app import create_app
    from bot.config import Settings
    from bot.services import build_services

    settings = Settings(shop_dir=shop_dir, data_dir=data_dir, database_url=None, demo=True)
    services = build_services(settings, eval_mode=True)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    fill_messages(services.db, messages, buyers=sorted(services.shop.buyers))
    out["fill_s"] = time.perf_counter() - t0
    lines = ["这件卫衣有什么颜色", "加绒连帽卫衣多少钱", "我的订单到哪了", "有没有优惠券", "好的谢谢"]
    bot = services.bot
    cid = bot.start_conversation("b01")
    costs = []
    for i in range(300):
        t = time.perf_counter()
        bot.handle(cid, "b01", lines[i % len(lines)])
        costs.append((time.perf_counter() - t) * 1000)
    # The same line at turns 1–10 and 291–300 (every fifth turn repeats it).
    early = [costs[i] for i in range(0, 15)]
    late = [costs[i] for i in range(285, 300)]
    out["turn3_ms"] = statistics.median(early)
    out["turn300_ms"] = statistics.median(late)
    services.accounts.create("bench", "bench-password-1", role="agent")
    with TestClient(create_app(services=services, eval_mode=True)) as client:
        token = client.post(
            "/api/auth/agent-login", json={"username": "bench", "password": "bench-password-1"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        times = []
        for _ in range(20):
            t = time.perf_counter()
            r = client.get("/api/agent/conversations", headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
        out["queue_rows"] = len(r.json())
        out["queue_p50_ms"] = pct(times, 50)
        out["queue_p95_ms"] = pct(times, 95)
    out["queue_parts"] = queue_parts(services)
    out["load"] = load()
    return out


def queue_parts(services: Any) -> dict[str, float]:
    """p50 ms of each read behind the queue's first page, in process: the page, the newest
    message of its rows, the pending drafts of the whole shop (what the route reads) and
    those of the page's rows alone (``pending_counts``)."""
    from bot.suggestions.sql import pending_counts

    conversations = services.conversations
    ids = [c.id for c in conversations.page(None, limit=200).items]
    reads: dict[str, Callable[[], object]] = {
        "page": lambda: conversations.page(None, limit=200),
        "newest messages": lambda: conversations.last_messages(ids),
        "pending, whole shop": lambda: services.suggestions.list(status="pending"),
        "pending, page rows": lambda: pending_counts(services.db, ids),
    }
    out = {}
    for name, read in reads.items():
        times = []
        for _ in range(15):
            t = time.perf_counter()
            read()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = pct(times, 50)
    return out


def run_components(work: Path, tmp: Path, sizes: list[int]) -> None:
    """Per size: a cold start fills a data directory, then a fresh process measures each
    component of a warm start (:func:`components`)."""
    table: dict[int, list[tuple[str, float, float]]] = {}
    for n in sizes:
        shop_dir = work / f"shop-{n}"
        if not (shop_dir / "products").is_dir() or len(list((shop_dir / "products").iterdir())) != n:
            generate_shop(shop_dir, n)
        data_dir = Path(tempfile.mkdtemp(prefix=f"data-{n}-", dir=tmp))
        run_child(shop_dir, data_dir, 1, turns=False)
        cmd = [sys.executable, __file__, "--components-child", str(shop_dir), str(data_dir)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"child failed:\n{done.stderr[-4000:]}")
        table[n] = [tuple(row) for row in json.loads(done.stdout.strip().splitlines()[-1])]  # type: ignore[misc]
        print(f"  components of {n:,} products measured (load {load()})", flush=True)
    print("\n## RSS MB (seconds) each start-up component adds, warm start")
    print("| component | " + " | ".join(f"{n:,}" for n in sizes) + (" | KB per product |" if len(sizes) > 1 else " |"))
    print("|---|" + "---|" * (len(sizes) + (1 if len(sizes) > 1 else 0)))
    for i, (name, _, _) in enumerate(table[sizes[0]]):
        cells = [f"{table[n][i][1]:.1f} ({table[n][i][2]:.1f} s)" if name != "total RSS" else f"{table[n][i][1]:.0f}" for n in sizes]
        if len(sizes) > 1:
            a, b = sizes[0], sizes[-1]
            cells.append(f"{(table[b][i][1] - table[a][i][1]) * 1024 / (b - a):.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


# --- report ----------------------------------------------------------------------------------


def exponent(a: tuple[int, float], b: tuple[int, float]) -> float:
    return math.log(b[1] / a[1]) / math.log(b[0] / a[0]) if a[1] > 0 and b[1] > 0 else float("nan")


def report(results: dict[int, dict[str, Any]]) -> None:
    sizes = sorted(results)
    print("\n## start, memory and turns")
    print("| products | cold start s | warm start s | idle RSS MB | RSS after turns MB | turns | p50 ms | p95 ms "
          "| mean ms | load | reference loop ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        r = results[n]
        w = r["warm"]
        after = f"{w['rss_after_mb']:.0f}" if "rss_after_mb" in w else "–"
        print(f"| {n:,} | {r['cold']['start_s']:.1f} | {w['start_s']:.1f} | {w['rss_mb']:.0f} | {after} | {w['turns']} "
              f"| {w['p50_ms']:.1f} | {w['p95_ms']:.1f} | {w['mean_ms']:.1f} | {w['load']} → {w['load_after']} "
              f"| {w['reference_ms']:.0f} → {w.get('reference_after_ms', 0):.0f} |")
    print("\n## p95 / mean ms per pass over the lines (the first pass meets the caches of a fresh start empty)")
    most = max(len(results[n]["warm"].get("passes", [])) for n in sizes)
    print("| products | " + " | ".join(f"pass {i + 1}" for i in range(most)) + " |")
    print("|---|" + "---|" * most)
    for n in sizes:
        cells = [f"{p95:.1f} / {mean:.1f}" for p95, mean in results[n]["warm"].get("passes", [])]
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    print("\n## per stage, mean ms per turn (p95)")
    print("| products | " + " | ".join(STAGES) + " |")
    print("|---|" + "---|" * len(STAGES))
    for n in sizes:
        st = results[n]["warm"]["stages"]
        print(f"| {n:,} | " + " | ".join(f"{st[s][0]:.2f} ({st[s][1]:.1f})" for s in STAGES) + " |")
    print("\n## p50 / p95 ms per intent")
    intents = sorted({i for n in sizes for i in results[n]["warm"]["per_intent"]})
    print("| intent | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for intent in intents:
        cells = []
        for n in sizes:
            v = results[n]["warm"]["per_intent"].get(intent)
            cells.append(f"{v[1]:.1f} / {v[2]:.1f}" if v else "–")
        print(f"| {intent} | " + " | ".join(cells) + " |")
    if len(sizes) > 1:
        print("\n## growth exponent between sizes (0 = flat, 1 = grows with the shop)")
        print("| sizes | mean turn | p95 turn | idle RSS | cold start | warm start |")
        print("|---|---|---|---|---|---|")
        for a, b in zip(sizes, sizes[1:]):
            ra, rb = results[a], results[b]

            def e(get: Callable[[dict[str, Any]], float]) -> str:
                return f"{exponent((a, get(ra)), (b, get(rb))):.2f}"

            print(f"| {a:,} → {b:,} | {e(lambda r: r['warm']['mean_ms'])} | {e(lambda r: r['warm']['p95_ms'])} "
                  f"| {e(lambda r: r['warm']['rss_mb'])} | {e(lambda r: r['cold']['start_s'])} "
                  f"| {e(lambda r: r['warm']['start_s'])} |")
        first, last = results[sizes[0]]["warm"], results[sizes[-1]]["warm"]
        print(f"\nmean turn at {sizes[-1]:,} / at {sizes[0]:,}: {last['mean_ms'] / first['mean_ms']:.2f}×")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        shop_dir, data_dir, rounds, turns = sys.argv[2:6]
        print(json.dumps(child(Path(shop_dir), Path(data_dir), int(rounds), turns == "1")))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--components-child":
        print(json.dumps(components(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1k and 5k products, 100k messages, one round")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the shops here (default: a temp dir)")
    parser.add_argument("--only-history", action="store_true", help="only the history and the queue")
    parser.add_argument("--history-shop", type=Path, default=None,
                        help="shop for the history and the queue (default: the smallest generated)")
    parser.add_argument("--components", action="store_true",
                        help="per size, the RSS and time each start-up component adds (warm start); no turns")
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 5000] if args.quick else [1000, 10_000, 50_000])
    messages = args.messages if args.messages is not None else (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 2)
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory(prefix="xiaoer-scale-") as tmp:
        work = args.workdir or Path(tmp)
        results: dict[int, dict[str, Any]] = {}
        if args.components:
            run_components(work, Path(tmp), sizes)
            print(f"load after: {load()}")
            return
        for n in ([] if args.only_history else sizes):
            shop_dir = work / f"shop-{n}"
            t = time.perf_counter()
            if not (shop_dir / "products").is_dir() or len(list((shop_dir / "products").iterdir())) != n:
                generate_shop(shop_dir, n)
            print(f"shop of {n:,} products written in {time.perf_counter() - t:.1f}s", flush=True)
            data_dir = Path(tempfile.mkdtemp(prefix=f"data-{n}-", dir=tmp))
            cold = run_child(shop_dir, data_dir, rounds, turns=False)
            print(f"  cold start {cold['start_s']:.1f}s, RSS {cold['rss_mb']:.0f} MB (load {cold['load']})", flush=True)
            warm = run_child(shop_dir, data_dir, rounds, turns=True)
            print(f"  warm start {warm['start_s']:.1f}s, RSS {warm['rss_mb']:.0f} MB, "
                  f"turn p50 {warm['p50_ms']:.1f} ms p95 {warm['p95_ms']:.1f} ms", flush=True)
            results[n] = {"cold": cold, "warm": warm}
        if results:
            report(results)
        if messages:
            smallest = sizes[0]
            shop_dir = args.history_shop.resolve() if args.history_shop else work / f"shop-{smallest}"
            if args.history_shop is None and not (shop_dir / "products").is_dir():
                generate_shop(shop_dir, smallest)
            data_dir = Path(tempfile.mkdtemp(prefix="data-history-", dir=tmp))
            h = history_and_queue(shop_dir, data_dir, messages)
            shop_name = args.history_shop or f"{smallest:,} products"
            print(f"\n## history and console queue ({messages:,} stored messages, shop {shop_name})")
            print(f"filled in {h['fill_s']:.1f}s")
            print(f"turn 3: {h['turn3_ms']:.1f} ms, turn 300: {h['turn300_ms']:.1f} ms "
                  f"({h['turn300_ms'] / h['turn3_ms']:.2f}×)")
            print(f"GET /api/agent/conversations (first page, {h['queue_rows']} rows): "
                  f"p50 {h['queue_p50_ms']:.1f} ms, p95 {h['queue_p95_ms']:.1f} ms (load {h['load']})")
            print("its reads, p50 in process: " + ", ".join(f"{k} {v:.1f} ms" for k, v in h["queue_parts"].items()))
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
