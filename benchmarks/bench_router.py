"""Per-turn latency of routing plus flow handling, in process, over the after-sales suites.

Each case of eval/aftersales/*.yaml is replayed through DialogueManager on the embedded SQL
order backend (in-memory SQLite, re-seeded per case, frozen clock). Prints p50/p95/max of the
route() call alone and of the whole handle() call (route + order look-ups + flow + writes).
Run: .venv/bin/python benchmarks/bench_router.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path

import yaml

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.flows.state import DialogueState
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.router import build_router
from bot.shop import load_shop
from bot.storage.db import create_all, make_engine

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--suites", type=Path, default=ROOT / "eval" / "aftersales")
    args = parser.parse_args()
    shop = load_shop(ROOT / "knowledge")
    router = build_router(shop)
    engine = make_engine("sqlite://")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    route_ms: list[float] = []
    handle_ms: list[float] = []
    for _ in range(args.rounds):
        for path in sorted(args.suites.glob("*.yaml")):
            suite = yaml.safe_load(path.read_text(encoding="utf-8"))
            for case in suite["cases"]:
                backend.reset()
                clock = FrozenClock(datetime.fromisoformat(str(case.get("now", suite["now"]))))
                dm = DialogueManager(shop, backend, router, clock, SequentialIds())
                state: dict = {}
                for turn in case["turns"]:
                    text = str(turn["user"])
                    t0 = time.perf_counter()
                    router.route(text, DialogueState.load(state).dump())
                    t1 = time.perf_counter()
                    out = dm.handle(state, str(case["buyer"]), text)
                    t2 = time.perf_counter()
                    state = out.state
                    route_ms.append((t1 - t0) * 1000)
                    handle_ms.append((t2 - t1) * 1000)
    print(f"turns measured: {len(handle_ms)} ({args.rounds} rounds)")
    for name, values in (("route only", route_ms), ("route + flow (handle)", handle_ms)):
        print(
            f"{name:22s} p50 {pct(values, 50):6.2f} ms  p95 {pct(values, 95):6.2f} ms  "
            f"max {max(values):6.2f} ms  mean {statistics.mean(values):6.2f} ms"
        )


if __name__ == "__main__":
    main()
