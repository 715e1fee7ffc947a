"""Leases that keep a scheduled job to one process at a time across a deployment.

:class:`RedisLease` implements :class:`bot.scheduling.Lease` with redis-py's ``Lock`` (``SET
NX PX`` with a random token; release only by its holder, in a Lua script). The ``ttl``
bounds a lease whose process died mid-job: another process may take the job after it.
Without Redis, :class:`bot.scheduling.LocalLease` serves one process.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.scheduling import Lease, LocalLease


class RedisLease:
    def __init__(self, url: str, *, prefix: str = "xiaoer:lease:", client: Any = None) -> None:
        import redis

        self._redis = client or redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._prefix = prefix
        self._held: dict[str, Any] = {}
        self._guard = threading.Lock()

    def acquire(self, name: str, ttl_s: float) -> bool:
        if ttl_s <= 0:
            raise ValueError("a lease needs a positive ttl")
        lock = self._redis.lock(
            self._prefix + name, timeout=ttl_s, blocking=False, thread_local=False,
            raise_on_release_error=False,
        )
        if not lock.acquire(blocking=False):
            return False
        with self._guard:
            self._held[name] = lock
        return True

    def release(self, name: str) -> None:
        with self._guard:
            lock = self._held.pop(name, None)
        if lock is not None:
            lock.release()  # a lease that already expired (and maybe passed on) is left alone


def build_lease(redis_url: str | None) -> Lease:
    return RedisLease(redis_url) if redis_url else LocalLease()
