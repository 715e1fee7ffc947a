"""One process of the scheduling test: ticks a shared Scheduler setup at agreed moments.

    python -m tests.scaleout.tick_worker DATABASE_URL REDIS_URL|local START_AT SLOTS   (from the root)

The job checks whether its slot's report exists, works a while, then writes it — work that
would be done twice if two processes ran it at once.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, create_engine, text

from bot.clock import FrozenClock
from bot.leases import build_lease
from bot.scheduling import Scheduler

BASE = datetime(2026, 11, 11, 0, 0, tzinfo=timezone.utc)


class SlotReport:
    name = "slot-report"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run_due(self, now: datetime) -> int:
        slot = now.isoformat()
        with self.engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM slot_reports WHERE slot = :s"), {"s": slot}).first():
                return 0
        time.sleep(0.3)  # the work itself
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO slot_reports (slot, pid) VALUES (:s, :p)"),
                         {"s": slot, "p": os.getpid()})
        return 1


def main() -> None:
    database_url, redis_url, start_at, slots = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    engine = create_engine(database_url)
    clock = FrozenClock(BASE)
    scheduler = Scheduler(clock, build_lease(None if redis_url == "local" else redis_url), lease_ttl_s=30)
    scheduler.add(SlotReport(engine))
    done = 0
    for i in range(slots):
        time.sleep(max(0.0, start_at + i * 0.6 - time.time()))
        done += scheduler.tick(BASE + timedelta(minutes=i)).total
    print(done)


if __name__ == "__main__":
    main()
