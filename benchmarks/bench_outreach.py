"""Outreach and workbench timings: a scheduler tick (every outreach job, then delivery), and
a staff action with its notice, on the demo shop and on the demo shop with its orders
copied until there are ``--orders`` of them.

Run: ``.venv/bin/python benchmarks/bench_outreach.py [--shop knowledge] [--n 50] [--orders 2000]``.
Prints p50/p95 in milliseconds over a SQLite file (WAL), as a server runs it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services
from bot.shop import Shop, load_shop
from bot.workbench import parse_action

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def timings(n: int, run: Callable[[int], object], before: Callable[[int], object] | None = None) -> tuple[float, float]:
    samples = []
    for i in range(n):
        if before is not None:
            before(i)
        start = time.perf_counter()
        run(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def scaled(shop: Shop, orders: int) -> Shop:
    """The shop with its orders copied (new tids, same buyers) until there are ``orders``."""
    copies = []
    n = 0
    while len(shop.orders) + len(copies) < orders:
        n += 1
        for o in shop.orders:
            if len(shop.orders) + len(copies) >= orders:
                break
            doc = o.model_dump()
            doc["tid"] = f"{o.tid}-{n}"
            doc["items"] = [{**i, "oid": f"{i['oid']}-{n}"} for i in doc["items"]]
            doc["refunds"] = [{**r, "items": [f"{x}-{n}" for x in r["items"]]} for r in doc["refunds"]]
            copies.append(type(o).model_validate(doc))
    return shop.model_copy(update={"orders": [*shop.orders, *copies]})


def services_for(shop: Shop, data_dir: Path) -> Services:
    settings = Settings(shop_dir=shop.root, data_dir=data_dir)
    return build_services(settings, shop=shop, clock=FrozenClock(T0), ids=SequentialIds(),
                          ephemeral=True, eval_mode=True)


def bench(shop: Shop, n: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        s = services_for(shop, Path(tmp))
        out: dict[str, tuple[float, float]] = {}

        def fresh(_: int) -> None:
            s.reset_for_case(T0)

        out["tick, reminders and follow-ups due (stores and sends them)"] = timings(
            n, lambda _: s.scheduler.tick(), before=fresh)
        s.reset_for_case(T0)
        s.scheduler.tick()
        out["tick, nothing new due"] = timings(
            n, lambda i: (s.clock.advance(timedelta(seconds=15)), s.scheduler.tick()))  # type: ignore[attr-defined]
        agree = parse_action({"action": "return.agree", "tid": "7018"})
        out["return.agree with its notice (stored and delivered)"] = timings(
            n, lambda _: s.workbench.perform(agree, "bench"), before=fresh)
        out["open items of the workbench"] = timings(n, lambda _: s.workbench.open_items())
        s.db.dispose()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shop", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()
    shop = load_shop(args.shop)
    for label, sized in ((f"{len(shop.orders)} orders", shop), (f"{args.orders} orders", scaled(shop, args.orders))):
        print(f"\n{shop.info.name}, {label} (n={args.n}, ms)")
        print(f"{'operation':<62} {'p50':>8} {'p95':>8}")
        for name, (p50, p95) in bench(sized, args.n).items():
            print(f"{name:<62} {p50:>8.2f} {p95:>8.2f}")


if __name__ == "__main__":
    main()
