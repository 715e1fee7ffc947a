"""In-process publish/subscribe for live updates (the agent console listens over SSE).

Publishing is safe from worker threads: sync endpoints run in a thread pool, while
subscribers are asyncio queues on the server's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any


class EventBus:
    def __init__(self, max_queue: int = 1000) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self._max = max_queue
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """Register a queue on the running loop; call :meth:`unsubscribe` when done."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._max)
        with self._lock:
            self._subs.add((loop, queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subs = {(lp, q) for lp, q in self._subs if q is not queue}

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        event = {"kind": kind, "data": data}
        with self._lock:
            subs = list(self._subs)
        for loop, queue in subs:
            if loop.is_closed():
                continue
            loop.call_soon_threadsafe(_offer, queue, event)

    @property
    def subscribers(self) -> int:
        return len(self._subs)


def _offer(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
    if queue.full():  # a slow console drops the oldest update rather than blocking the bot
        queue.get_nowait()
    queue.put_nowait(event)
