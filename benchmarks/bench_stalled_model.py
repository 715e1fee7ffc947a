"""Plain-turn latency while the model hangs: p95 of order-status turns with no model calls in
flight, and with ``--hung`` drafting turns waiting on a model that answers only after
``--hang-s``.

    .venv/bin/python -m benchmarks.bench_stalled_model [--hung 100] [--turns 100] [--rounds 3] [--clients 4]

The app runs under uvicorn on loopback over the demo shop (SQLite file in a temp dir,
in-memory retrieval index, assist mode); the model is the scripted OpenAI-compatible server
of the tests (tests/fakes/openai_server.py). The model limit is raised to ``--hung`` so every
drafting turn really is waiting on the model, as in an attack with the limit set high; with
the default limit most of them would be answered by the template at once. The deadline is
set past ``--hang-s``, so no hung call ends while plain turns are measured. Plain turns are
「我的订单<tid>到哪了」 from the buyer who owns the order, sent by ``--clients`` concurrent
clients; ``/healthz`` is timed between them. Blocks without and with hung calls alternate
``--rounds`` times, so a change in the machine's load falls on both. Target: p95 ratio
(hung / none) <= 1.5.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from bot.config import Settings
from bot.services import Services, build_services
from tests.fakes.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_QUESTION = "这件卫衣起球吗"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(done, what: str, timeout_s: float = 180.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise SystemExit(f"gave up waiting: {what}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Bench:
    def __init__(self, services: Services, url: str) -> None:
        self.url = url
        self.tokens = {
            b: httpx.post(f"{url}/api/auth/demo-login", json={"buyer_id": b}, timeout=10).json()["token"]
            for b in services.shop.buyers
        }
        self.plain = [(o.buyer, f"我的订单{o.tid}到哪了") for o in services.shop.orders]

    def chat(self, client: httpx.Client, buyer: str, text: str) -> float:
        t0 = time.perf_counter()
        r = client.post("/api/chat", json={"text": text}, headers={"Authorization": f"Bearer {self.tokens[buyer]}"})
        elapsed = (time.perf_counter() - t0) * 1000
        if r.status_code != 200 or not r.json().get("reply"):
            raise SystemExit(f"a plain turn failed: {r.status_code} {r.text[:200]}")
        return elapsed

    def plain_turns(self, turns: int, clients: int) -> tuple[list[float], list[float]]:
        """Latencies (ms) of ``turns`` plain turns over ``clients`` clients, and of /healthz."""
        per_client = max(1, turns // clients)

        def client_run(k: int) -> tuple[list[float], list[float]]:
            chat_ms, health_ms = [], []
            with httpx.Client(base_url=self.url, timeout=120) as client:
                for i in range(per_client):
                    buyer, text = self.plain[(k * per_client + i) % len(self.plain)]
                    chat_ms.append(self.chat(client, buyer, text))
                    t0 = time.perf_counter()
                    client.get("/healthz").raise_for_status()
                    health_ms.append((time.perf_counter() - t0) * 1000)
            return chat_ms, health_ms

        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(client_run, range(clients)))
        return [x for c, _ in results for x in c], [x for _, h in results for x in h]


def hang(bench: Bench, model: FakeOpenAI, pool: ThreadPoolExecutor, n: int, hang_s: float) -> list[Future[httpx.Response]]:
    """``n`` drafting turns whose model calls answer only after ``hang_s``."""
    model.script(*[Reply("亲，这款卫衣不易起球哦～", delay_s=hang_s)] * n)
    buyers = list(bench.tokens)

    def turn(buyer: str) -> httpx.Response:
        return httpx.post(
            f"{bench.url}/api/chat", json={"text": PRODUCT_QUESTION},
            headers={"Authorization": f"Bearer {bench.tokens[buyer]}"}, timeout=hang_s * 3,
        )

    return [pool.submit(turn, buyers[i % len(buyers)]) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hung", type=int, default=100, help="drafting turns hanging at the model")
    ap.add_argument("--turns", type=int, default=100, help="plain turns measured per block")
    ap.add_argument("--rounds", type=int, default=3, help="blocks without and with hung calls, alternating")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients sending plain turns")
    ap.add_argument("--hang-s", type=float, default=30.0, help="how long the model keeps a call waiting")
    args = ap.parse_args()
    import uvicorn

    from bot.api.app import create_app

    with FakeOpenAI() as model, tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(1, args.hung)) as pool:
        settings = Settings(
            shop_dir=ROOT / "knowledge", data_dir=Path(tmp), reply_mode="assist", embedding_model=None,
            demo=True, demo_login=True, rate_limits=False, secret_key="bench-" + os.urandom(16).hex(),  # type: ignore[arg-type]
            llm_model="fake-model", openai_base_url=model.base_url, openai_api_key="bench",  # type: ignore[arg-type]
            llm_timeout_s=args.hang_s * 2, llm_max_retries=0,
            llm_concurrency=max(1, args.hung), llm_deadline_s=args.hang_s * 2,
        )
        services = build_services(settings, ephemeral=True)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(
            create_app(settings, services), host="127.0.0.1", port=port, log_level="warning",
            timeout_graceful_shutdown=5,
        ))
        thread = threading.Thread(target=server.run, name="bench-app", daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(url), "the app to start")
        bench = Bench(services, url)
        print(f"shop={services.shop.info.name} plain turns per block={args.turns} rounds={args.rounds} "
              f"clients={args.clients} hung model calls={args.hung} cpus={os.cpu_count()} "
              f"load={os.getloadavg()[0]:.1f}")

        bench.plain_turns(min(40, args.turns), args.clients)  # warm up (jieba, caches, connections)
        none_chat: list[float] = []
        none_health: list[float] = []
        hung_chat: list[float] = []
        hung_health: list[float] = []
        reached: list[float] = []
        for _ in range(args.rounds):
            chat_ms, health_ms = bench.plain_turns(args.turns, args.clients)
            none_chat += chat_ms
            none_health += health_ms

            sent = len(model.chat_requests)
            t0 = time.perf_counter()
            hung = hang(bench, model, pool, args.hung, args.hang_s)
            wait_until(lambda: len(model.chat_requests) - sent >= args.hung, "the drafting turns to reach the model")
            reached.append(time.perf_counter() - t0)
            in_use = services.drafting.limit.in_use if services.drafting.limit else 0
            chat_ms, health_ms = bench.plain_turns(args.turns, args.clients)
            if in_use < args.hung or any(f.done() for f in hung):
                raise SystemExit("hung calls ended while plain turns were measured: raise --hang-s")
            hung_chat += chat_ms
            hung_health += health_ms
            for f in hung:  # the model answers late; the drafting turns finish
                f.result().raise_for_status()
        server.should_exit = True
        thread.join(timeout=30)

    p95_none, p95_hung = pct(none_chat, 95), pct(hung_chat, 95)
    print(f"{args.hung} drafting turns reached the model in {statistics.median(reached):.1f} s (median of "
          f"{len(reached)}) and all were still waiting on it while plain turns were measured")
    print(f"plain turn, no model calls:       p50 {statistics.median(none_chat):6.1f} ms  p95 {p95_none:6.1f} ms  "
          f"max {max(none_chat):6.1f} ms  (n={len(none_chat)})")
    print(f"plain turn, {args.hung:3d} hung model calls: p50 {statistics.median(hung_chat):6.1f} ms  "
          f"p95 {p95_hung:6.1f} ms  max {max(hung_chat):6.1f} ms  (n={len(hung_chat)})")
    print(f"/healthz p95: {pct(none_health, 95):.1f} ms with none, {pct(hung_health, 95):.1f} ms with {args.hung} hung")
    ratio = p95_hung / p95_none
    print(f"p95 ratio (hung / none): {ratio:.2f} (target <= 1.5) {'OK' if ratio <= 1.5 else 'OVER'}")


if __name__ == "__main__":
    main()
