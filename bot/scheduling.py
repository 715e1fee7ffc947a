"""Scheduled work driven by the injected clock.

Every piece of work the shop does unprompted (reminders, notices, follow-ups, drafts that
waited too long for an agent) is a :class:`Job`: given ``now`` it does whatever is due and
returns how many things it did. Jobs are idempotent — running one twice at the same ``now``
does nothing the second time — so a restart, or two processes that both tick, never
duplicate work; a :class:`Lease` keeps two processes from running the same job at once.

In a server a background task ticks the :class:`Scheduler` every few seconds; in eval mode
the transcript runner ticks it after each ``wait:`` turn, so a replay is exact.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.clock import Clock

log = logging.getLogger(__name__)


class Job(Protocol):
    """One kind of scheduled work."""

    name: str

    def run_due(self, now: datetime) -> int:
        """Do what is due at ``now``; return how many things were done. Must be idempotent."""
        ...


class Lease(Protocol):
    """Mutual exclusion for a job across processes (a Redis lease, or a local lock)."""

    def acquire(self, name: str, ttl_s: float) -> bool: ...

    def release(self, name: str) -> None: ...


class LocalLease:
    """One process: a non-blocking lock per job name."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def acquire(self, name: str, ttl_s: float) -> bool:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        return lock.acquire(blocking=False)

    def release(self, name: str) -> None:
        lock = self._locks.get(name)
        if lock is not None and lock.locked():
            lock.release()


@dataclass(frozen=True)
class TickReport:
    """What one tick did: work done per job, and the jobs that failed or were skipped."""

    at: datetime
    done: dict[str, int] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.done.values())


class Scheduler:
    """Runs every registered job's due work at the clock's ``now``."""

    def __init__(self, clock: Clock, lease: Lease | None = None, *, lease_ttl_s: float = 60.0) -> None:
        self._clock = clock
        self._lease = lease or LocalLease()
        self._ttl = lease_ttl_s
        self._jobs: list[Job] = []

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(self._jobs)

    def add(self, job: Job) -> None:
        if any(j.name == job.name for j in self._jobs):
            raise ValueError(f"job {job.name!r} is already scheduled")
        self._jobs.append(job)

    def tick(self, now: datetime | None = None) -> TickReport:
        """Run each job once. A failing job is logged and does not stop the others."""
        at = now or self._clock.now()
        done: dict[str, int] = {}
        failed: list[str] = []
        skipped: list[str] = []
        for job in self._jobs:
            if not self._lease.acquire(job.name, self._ttl):
                skipped.append(job.name)
                continue
            try:
                done[job.name] = job.run_due(at)
            except Exception:  # one broken job must not stop reminders, notices, holds
                log.exception("定时任务 %s 失败 / scheduled job %s failed", job.name, job.name)
                failed.append(job.name)
            finally:
                self._lease.release(job.name)
        return TickReport(at=at, done=done, failed=tuple(failed), skipped=tuple(skipped))

    async def run_forever(self, interval_s: float, stop: asyncio.Event) -> None:
        """Tick every ``interval_s`` seconds (in a worker thread) until ``stop`` is set."""
        while not stop.is_set():
            await asyncio.to_thread(self.tick)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
