"""Report timings: the shop report and the review list over many stored conversations.

Run: ``.venv/bin/python benchmarks/bench_reports.py [--conversations 2000] [--repeat 5]``.
Writes conversations of the demo shop's buyers into a SQLite file (WAL) — a pre-sales
question, a holding message, a draft an agent accepts, edits or rejects, an agent reply,
some with a rating — spread over 14 days, then times ``ReportService.report``, ``review``
and the HTML and CSV rendering. Prints the median and the slowest of the runs in ms.
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
from bot.conversations.sql import SqlConversationStore
from bot.orders.sql import SqlOrderBackend
from bot.reports.csvfile import render_csv
from bot.reports.html import render_html
from bot.reports.service import ReportService
from bot.shop import load_shop
from bot.storage.db import create_all, make_engine
from bot.suggestions.sql import SuggestionRow
from bot.turns import TurnResult

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime.fromisoformat("2026-11-07T09:00:00+08:00")
INTENTS = ["product_info", "size_advice", "price_promotion", "logistics", "stock", "complaint", "recommendation"]
STATUSES = ["accepted", "edited", "rejected", "auto_sent"]


def seed(url: str, n: int) -> ReportService:
    shop = load_shop(ROOT / "knowledge")
    engine = make_engine(url)
    create_all(engine)
    orders = SqlOrderBackend(engine, shop)
    orders.ensure_seeded()
    store = SqlConversationStore(engine, tz=shop.tz)
    buyers = list(shop.buyers)
    for i in range(n):
        at = T0 + timedelta(minutes=10 * i)
        cid, intent = f"c{i}", INTENTS[i % len(INTENTS)]
        store.create(buyers[i % len(buyers)], at, cid)
        store.add_message(cid, "buyer", "这件衣服有现货吗", at, f"m{i}a")
        store.add_turn(
            TurnResult(conversation_id=cid, turn_id=f"t{i}", reply="", intent=intent, handoff=intent == "complaint"),
            f"m{i}a", at,
        )
        store.add_message(cid, "bot", "亲稍等哦～", at + timedelta(seconds=20), f"m{i}b")
        status = STATUSES[i % len(STATUSES)]
        with engine.begin() as conn:
            conn.execute(SuggestionRow.__table__.insert().values(
                id=f"s{i}", conversation_id=cid, turn_id=f"t{i}", intent=intent, draft="亲，有现货的，今天下单明天发货哦～",
                citations=[], facts={}, flags=[], flag_details=[], drafter="template", status=status,
                final_text=None if status == "rejected" else "亲，有现货的，今天下单48小时内发货哦～",
                decided_by="bot" if status == "auto_sent" else f"agent{i % 5}",
                decided_at=(at + timedelta(seconds=45)).isoformat(), reject_reason="不准确" if status == "rejected" else None,
                created=at.isoformat(),
            ))
        if status != "rejected":
            author = None if status == "auto_sent" else f"agent{i % 5}"
            store.add_message(cid, "bot", "亲，有现货的哦～", at + timedelta(seconds=45), f"m{i}c", author=author, turn_id=f"t{i}")
        store.add_message(cid, "agent", "还有什么可以帮您？", at + timedelta(seconds=90), f"m{i}d", author=f"agent{i % 5}")
        if i % 3 == 0:
            store.rate(cid, 1 + i % 5, at + timedelta(minutes=2))
    return ReportService(engine, shop, orders, FrozenClock(T0 + timedelta(days=15)))


def timed(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        service = seed(f"sqlite:///{Path(tmp) / 'reports.db'}", args.conversations)
        print(f"seeded {args.conversations} conversations in {time.perf_counter() - start:.1f} s")
        window = service.window(None, None)
        report = service.report(window)
        rows = [
            ("report (load + figures, whole window)", timed(args.repeat, lambda: service.report(window))),
            ("report of one day", timed(args.repeat, lambda: service.report(service.window("2026-11-10", "2026-11-10")))),
            ("review list", timed(args.repeat, lambda: service.review(window))),
            ("render_html", timed(args.repeat, lambda: render_html(report))),
            ("render_csv", timed(args.repeat, lambda: render_csv(report))),
        ]
    print(f"{'operation':40} {'median ms':>10} {'max ms':>10}")
    for name, (median, worst) in rows:
        print(f"{name:40} {median:10.1f} {worst:10.1f}")


if __name__ == "__main__":
    main()
