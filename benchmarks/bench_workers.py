"""Throughput and latency of `xiaoer serve --workers N` for N = 1, 2, 4 on this machine.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_workers.py [--workers 1,2,4] [--seconds 30]

Each N is one `xiaoer serve --workers N` on its own fresh PostgreSQL database, sharing Redis
and a chroma server (started here on loopback, as the multi-process tests do) — the shape
of the compose deployment. Closed-loop load: ``--clients`` buyers each send their next
message as soon as the last was answered, a mix of product questions (retrieval and the
template drafter), order and parcel look-ups, and shop policy. Measured windows interleave
across the worker counts, ``--rounds`` times, each after a short warm-up; the medians are
reported, with turns/s, p50/p95 latency, the ratio to one worker, and the CPU time each turn
cost the xiaoer processes, the backends and the load generator (which shares the cores) —
on a machine shared with other jobs, the CPU per turn is the figure that does not move
with their load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.scaleout.servers import (
    chroma_server,
    postgres_server,
    redis_server,
    start_xiaoer,
    xiaoer_env,
)

BUYERS = [f"b{i:02d}" for i in range(1, 17)]
LINES = [
    "这件卫衣起球吗",
    "我的快递到哪了",
    "你们发什么快递",
    "亚麻衬衫有什么颜色",
    "我的订单发货了吗",
    "满多少包邮呀",
    "阔腿裤会不会缩水",
    "现在有什么优惠活动",
]


@dataclass
class Figures:
    workers: int
    turns: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    server_cpu_s: float = 0.0  # the xiaoer processes, during the window
    backend_cpu_s: float = 0.0  # PostgreSQL, Redis, chroma
    client_cpu_s: float = 0.0  # the load generator

    def per_turn_ms(self, cpu_s: float) -> float:
        return cpu_s * 1000 / self.turns if self.turns else 0.0

    @property
    def rate(self) -> float:
        return self.turns / self.seconds


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _cpu_split(server_pid: int, all_servers: set[int]) -> tuple[float, float, float]:
    """CPU seconds so far of: the measured xiaoer, the backends (PostgreSQL, Redis, chroma),
    and this load generator."""
    backends = sum(_tree_cpu(c.pid) for c in psutil.Process().children() if c.pid not in all_servers)
    me = psutil.Process().cpu_times()
    return _tree_cpu(server_pid), backends, me.user + me.system


async def _load(url: str, clients: int, warmup_s: float, seconds: float,
                snapshot: Callable[[], tuple[float, float, float]]) -> tuple[list[float], int, tuple[float, ...]]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        tokens = []
        for i in range(clients):
            r = await http.post("/api/auth/demo-login", json={"buyer_id": BUYERS[i % len(BUYERS)]})
            r.raise_for_status()
            tokens.append(r.json()["token"])
        start = time.perf_counter()
        measure_from = start + warmup_s
        stop_at = measure_from + seconds

        async def client(n: int) -> None:
            nonlocal errors
            headers = {"Authorization": f"Bearer {tokens[n]}"}
            k = n
            while time.perf_counter() < stop_at:
                k += 1
                sent = time.perf_counter()
                try:
                    r = await http.post("/api/chat", json={"text": LINES[k % len(LINES)]}, headers=headers)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                done = time.perf_counter()
                if sent >= measure_from and done <= stop_at:
                    if ok:
                        latencies.append((done - sent) * 1000)
                    else:
                        errors += 1

        cpu: list[tuple[float, float, float]] = []

        async def meter() -> None:
            await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
            cpu.append(snapshot())
            await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
            cpu.append(snapshot())

        await asyncio.gather(meter(), *(client(n) for n in range(clients)))
    used = tuple(after - before for before, after in zip(cpu[0], cpu[1]))
    return latencies, errors, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--clients", type=int, default=16, help="concurrent buyers")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each window")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per measured window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per worker count, interleaved")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    print(f"cores {os.cpu_count()} · load average {_load_avg()}", flush=True)
    windows: dict[int, list[Figures]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as pg, redis_server() as redis_url, \
            chroma_server() as chroma_url:
        servers = {}
        try:
            for n in counts:  # every deployment up (idle) before any window, each on its own database
                env = xiaoer_env(Path(tmp) / f"w{n}", database_url=pg.fresh_database(),
                                 redis_url=redis_url, chroma_url=chroma_url, rate_limits="false")
                servers[n] = start_xiaoer(env, Path(tmp) / f"w{n}.log", "--workers", str(n), timeout_s=900)
            time.sleep(60)  # the last workers finish building their services
            # Windows interleave (1, 2, 4, 1, 2, 4, …) so a change in the machine's other load
            # falls on every worker count alike.
            for r in range(args.rounds):
                for n in counts:
                    pids = {s.proc.pid for s in servers.values()}
                    latencies, errors, used = asyncio.run(_load(
                        servers[n].url, args.clients, args.warmup, args.seconds,
                        lambda n=n, pids=pids: _cpu_split(servers[n].proc.pid, pids),
                    ))
                    f = _figures(n, latencies, errors, args.seconds, used)
                    windows[n].append(f)
                    print(f"round {r + 1} · workers {n}: {f.rate:.1f} turns/s · p50 {f.p50_ms:.0f} ms · "
                          f"p95 {f.p95_ms:.0f} ms · errors {f.errors} · CPU ms/turn xiaoer "
                          f"{f.per_turn_ms(f.server_cpu_s):.0f} backends {f.per_turn_ms(f.backend_cpu_s):.0f} "
                          f"client {f.per_turn_ms(f.client_cpu_s):.0f} · load {_load_avg()}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
    best = {n: statistics.median(f.rate for f in fs) for n, fs in windows.items()}
    base = best[counts[0]] or 1.0
    print(f"\n| workers | turns/s (median of {args.rounds}) | p50 ms | p95 ms | × {counts[0]} worker | "
          "CPU ms/turn xiaoer | backends | client | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, fs in windows.items():
        p50 = statistics.median(f.p50_ms for f in fs)
        p95 = statistics.median(f.p95_ms for f in fs)
        server = statistics.median(f.per_turn_ms(f.server_cpu_s) for f in fs)
        backend = statistics.median(f.per_turn_ms(f.backend_cpu_s) for f in fs)
        client = statistics.median(f.per_turn_ms(f.client_cpu_s) for f in fs)
        print(f"| {n} | {best[n]:.1f} | {p50:.0f} | {p95:.0f} | {best[n] / base:.2f} | {server:.0f} | "
              f"{backend:.0f} | {client:.0f} | {sum(f.errors for f in fs)} |")
    print(f"load average after: {_load_avg()}")


def _figures(workers: int, latencies: list[float], errors: int, seconds: float,
             used: tuple[float, ...]) -> Figures:
    latencies.sort()
    return Figures(
        workers=workers, turns=len(latencies), errors=errors, seconds=seconds,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
        server_cpu_s=used[0], backend_cpu_s=used[1], client_cpu_s=used[2],
    )


def _load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
