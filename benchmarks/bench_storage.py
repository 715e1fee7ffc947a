"""Storage timings: order-backend reset, state changes, buyer messages, agent logins.

Run: ``.venv/bin/python benchmarks/bench_storage.py [--shop knowledge] [--n 300]``.
Prints p50/p95 in milliseconds for an in-memory SQLite database and a SQLite file (WAL).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.accounts import AccountStore
from bot.conversations.sql import SqlConversationStore
from bot.orders.sql import SqlOrderBackend
from bot.shop import load_shop
from bot.storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def timings(n: int, run: Callable[[int], object]) -> tuple[float, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        run(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def bench(url: str, shop_dir: Path, n: int) -> list[tuple[str, float, float]]:
    shop = load_shop(shop_dir)
    engine = make_engine(url)
    orders = SqlOrderBackend(engine, shop)
    orders.ensure_seeded()
    rows = [("reset()", *timings(n, lambda i: orders.reset()))]

    first = shop.orders[0]
    store = SqlConversationStore(engine, tz=shop.tz)
    store.create("b", T0, "c1")
    cases: list[tuple[str, Callable[[int], object]]] = [
        ("order(tid)", lambda i: orders.order(first.tid)),
        ("orders_of(buyer)", lambda i: orders.orders_of(first.buyer)),
        ("export()", lambda i: orders.export()),
        (
            "update_address (new key)",
            lambda i: orders.update_address(first.tid, first.address, key=f"k{i}"),
        ),
        (
            "update_address (same key)",
            lambda i: orders.update_address(first.tid, first.address, key="k0"),
        ),
        (
            "add_message + commit",
            lambda i: store.add_message(
                "c1", "buyer", "我的快递到哪了", T0 + timedelta(seconds=i), f"m{i}"
            ),
        ),
        ("messages(conversation)", lambda i: store.messages("c1")),
    ]
    rows += [(name, *timings(n, run)) for name, run in cases]

    # argon2 with the library's default parameters is slow on purpose; a few samples do.
    accounts = AccountStore(engine)
    accounts.create("bench", "correct horse", "agent")
    rows.append(("account verify (argon2)", *timings(5, lambda i: accounts.verify("bench", "x" * 9))))
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shop", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    shop = load_shop(args.shop)
    print(f"shop {args.shop} — {len(shop.buyers)} buyers, {len(shop.orders)} orders; n={args.n}")
    with tempfile.TemporaryDirectory() as tmp:
        file_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        for label, url in (("memory", "sqlite://"), ("file", file_url)):
            print(f"\n{label} ({url})")
            print(f"{'operation':<28}{'p50 ms':>10}{'p95 ms':>10}")
            for name, p50, p95 in bench(url, args.shop, args.n):
                print(f"{name:<28}{p50:>10.3f}{p95:>10.3f}")


if __name__ == "__main__":
    main()
