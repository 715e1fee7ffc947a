"""Turns per second of one process with many buyers and no think time, in process.

    .venv/bin/python benchmarks/bench_turns.py [--buyers 50] [--seconds 30] [--windows 2] [--profile]

The demo shop on a SQLite file in a temporary data directory, the offline template drafter
(no model configured), the reply policy of the shop (assist mode: drafts of product questions
wait for an agent). ``--buyers`` conversations each send their next line as soon as the last
turn returned (closed loop, no think time) through :meth:`Bot.ahandle`, the server's path: the
stored steps run in the bot's worker threads, as under ``xiaoer serve``. The HTTP layer is not
measured (see ``bench_workers.py`` for that). After a warm-up it prints turns/s, p50/p95
latency, the process CPU time per turn and the machine's speed (``reference_ms``: a fixed
loop's CPU time) for each of ``--windows`` windows in a row (the
conversations grow from one to the next: a cost that grows with them shows there), then, one
turn at a time in this thread, the mean cost of each stage (``bench_scale.py``'s wrappers),
the CPU time and the SQL statements and commits per turn, and, with ``--profile``, the
functions that cost most (cProfile over those sequential turns).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the project root holds ``bot`` and this folder
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import STAGES, instrument, load, pct, reference_ms  # noqa: E402
from benchmarks.bench_workers import LINES  # noqa: E402  (the same mix of buyer lines)


class Statements:
    """Counts the statements and the commits an engine sends while ``on``."""

    def __init__(self, engine: object) -> None:
        from sqlalchemy import event

        self.on = False
        self.statements = 0
        self.commits = 0

        def statement(*_: object) -> None:
            self.statements += self.on

        def commit(*_: object) -> None:
            self.commits += self.on

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)


async def closed_loop(bot: object, convs: list[tuple[str, str]], seconds: float) -> tuple[list[float], float]:
    """Every conversation sends its next line as soon as its last turn returned."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []

    async def buyer(k: int, cid: str, buyer_id: str) -> None:
        n = k
        while time.perf_counter() < stop:
            t = time.perf_counter()
            await bot.ahandle(cid, buyer_id, LINES[n % len(LINES)])  # type: ignore[attr-defined]
            latencies.append((time.perf_counter() - t) * 1000)
            n += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(buyer(k, cid, b) for k, (cid, b) in enumerate(convs)))
    return latencies, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--windows", type=int, default=2, help="measured windows, one after the other")
    parser.add_argument("--sequential", type=int, default=200, help="turns one at a time for the stages")
    parser.add_argument("--profile", action="store_true", help="cProfile the sequential turns")
    args = parser.parse_args()

    from bot.config import Settings
    from bot.services import build_services

    print(f"load before: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="xiaoer-turns-") as tmp:
        services = build_services(
            Settings(shop_dir=ROOT / "knowledge", data_dir=Path(tmp), database_url=None), ephemeral=True,
            serving=True,  # as ``xiaoer serve`` starts (see bot.collector)
        )
        bot = services.bot
        buyers = sorted(services.shop.buyers)
        convs = []
        for k in range(args.buyers):
            b = buyers[k % len(buyers)]
            convs.append((bot.start_conversation(b), b))
        asyncio.run(closed_loop(bot, convs, args.warmup))
        print(f"\n{args.buyers} buyers, no think time, in process (Bot.ahandle), SQLite file")
        print("| window | turns | turns/s | p50 ms | p95 ms | CPU ms per turn | messages per conversation | load "
              "| reference loop ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        for w in range(args.windows):  # later windows: the same buyers, longer conversations
            cpu0 = time.process_time()
            latencies, wall = asyncio.run(closed_loop(bot, convs, args.seconds))
            cpu = time.process_time() - cpu0
            turns = len(latencies)
            length = statistics.fmean(len(services.conversations.recent(c, 10_000)) for c, _ in convs)
            print(f"| {w + 1} | {turns} | {turns / wall:.1f} | {pct(latencies, 50):.1f} | {pct(latencies, 95):.1f} "
                  f"| {cpu / turns * 1000:.1f} | {length:.0f} | {load()} | {reference_ms():.0f} |", flush=True)

        stages = instrument(services)
        sql = Statements(services.db)
        prof = cProfile.Profile() if args.profile else None
        costs = []
        cid, b = convs[0]
        cpu0 = time.process_time()
        for n in range(args.sequential):
            if prof:
                prof.enable()
            sql.on = True
            t = time.perf_counter()
            bot.handle(cid, b, LINES[n % len(LINES)])
            costs.append((time.perf_counter() - t) * 1000)
            sql.on = False
            if prof:
                prof.disable()
            stages.end_turn()
        cpu = time.process_time() - cpu0
        print(f"\none at a time: {len(costs)} turns, mean {statistics.fmean(costs):.1f} ms, "
              f"p50 {pct(costs, 50):.1f} ms, CPU {cpu / len(costs) * 1000:.1f} ms per turn"
              f"{' (under the profiler)' if prof else ''}, {sql.statements / len(costs):.1f} statements "
              f"and {sql.commits / len(costs):.1f} commits per turn (reference loop {reference_ms():.0f} ms)")
        print("| " + " | ".join(STAGES) + " |")
        print("|" + "---|" * len(STAGES))
        print("| " + " | ".join(f"{statistics.fmean(stages.totals[s]):.2f}" for s in STAGES) + " |")
        if prof:
            st = pstats.Stats(prof)
            st.sort_stats("tottime").print_stats(25)
            st.sort_stats("cumulative").print_stats(40)
    print(f"load after: {load()}")
    os._exit(0)  # the bot's worker threads and the retrieval index need no orderly goodbye


if __name__ == "__main__":
    main()
