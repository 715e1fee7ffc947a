"""Publish/subscribe for live updates (the agent console and the chat page listen over SSE).

Every event is ``{"id": str, "kind": str, "data": {...}}``. Its id orders it in the bus, so a
stream that reconnects with the last id it saw (``subscribe(after=...)``) gets what it missed
and nothing twice. Two buses share the interface:

* :class:`EventBus` — in this process; keeps the last ``retention`` events for resumes.
* :class:`RedisEventBus` — a Redis stream, so every process of a deployment sees every
  event and a console may resume on another worker than the one it left.

When the events a stream asks for are older than what the bus keeps, it first gets a
``resync`` event: the listener should reload what it shows.

Publishing is safe from worker threads: sync endpoints run in a thread pool, while
subscribers are asyncio queues on the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
RESYNC = "resync"
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


class EventBus:
    """In-process bus: ids count up from 1 in this process."""

    def __init__(self, max_queue: int = 1000, *, retention: int = 1000) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        if retention <= 0:
            raise ValueError("retention must be positive")
        self._max = max_queue
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = set()
        self._lock = threading.Lock()
        self._recent: deque[Event] = deque(maxlen=retention)
        self._last = 0

    def subscribe(self, after: str | None = None) -> asyncio.Queue[Event]:
        """Register a queue on the running loop, holding first the kept events after
        ``after`` (an id from this bus); call :meth:`unsubscribe` when done."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max)
        with self._lock:
            backlog = self._backlog(after)
            self._subs.add((loop, queue))
        # Runs on the loop before any publish scheduled after the registration above.
        for event in backlog:
            _offer(queue, event)
        return queue

    def _backlog(self, after: str | None) -> list[Event]:
        if after is None or not after.isdigit():
            return []
        seen = int(after)
        if seen > self._last:  # an id from before this process started
            return [_resync(), *self._recent]
        missed = [e for e in self._recent if int(e["id"]) > seen]
        oldest = int(self._recent[0]["id"]) if self._recent else self._last + 1
        if seen < oldest - 1:
            return [_resync(), *missed]
        return missed

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        with self._lock:
            self._subs = {(lp, q) for lp, q in self._subs if q is not queue}

    def publish(self, kind: str, data: dict[str, Any]) -> str:
        """Send ``data`` as a ``kind`` event to every subscriber; returns the event's id."""
        with self._lock:
            self._last += 1
            event: Event = {"id": str(self._last), "kind": kind, "data": data}
            self._recent.append(event)
            subs = list(self._subs)
        _deliver(subs, event)
        return event["id"]

    def ping(self) -> None:
        """Raise when the bus cannot carry events (never, in process)."""

    def close(self) -> None:
        return None

    @property
    def subscribers(self) -> int:
        return len(self._subs)


class RedisEventBus:
    """Events in one Redis stream (``XADD`` with an approximate ``MAXLEN``); each subscriber
    reads it from its own cursor with ``XREAD BLOCK``, so none is lost between reads."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = "xiaoer:events",
        retention: int = 10_000,
        max_queue: int = 1000,
        block_ms: int = 5000,
    ) -> None:
        import redis

        if retention <= 0 or max_queue <= 0 or block_ms <= 0:
            raise ValueError("retention, max_queue and block_ms must be positive")
        self._url = url
        self._stream = stream
        self._retention = retention
        self._max = max_queue
        self._block_ms = block_ms
        self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._readers: dict[int, tuple[asyncio.Queue[Event], asyncio.Task[None]]] = {}
        self._lock = threading.Lock()

    def subscribe(self, after: str | None = None) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max)
        cursor = after if after and _STREAM_ID.match(after) else None
        if cursor is not None:
            oldest = self._redis.xrange(self._stream, count=1)
            if oldest and _older(cursor, _text(oldest[0][0])):  # what followed it was trimmed
                _offer(queue, _resync())
        else:
            # Start from the newest event now, so nothing published after subscribe() is missed.
            newest = self._redis.xrevrange(self._stream, count=1)
            cursor = _text(newest[0][0]) if newest else "0-0"
        task = asyncio.get_running_loop().create_task(self._read(queue, cursor))
        with self._lock:
            self._readers[id(queue)] = (queue, task)
        return queue

    async def _read(self, queue: asyncio.Queue[Event], cursor: str) -> None:
        import redis.asyncio as aredis

        client = aredis.Redis.from_url(self._url, socket_connect_timeout=5)
        try:
            while True:
                try:
                    reply = await client.xread({self._stream: cursor}, count=200, block=self._block_ms)
                except (OSError, aredis.RedisError) as exc:
                    log.warning("读取实时事件失败，稍后重试 / reading live events failed: %s", exc)
                    await asyncio.sleep(1.0)
                    continue
                for _stream, entries in reply or []:
                    for raw_id, fields in entries:
                        cursor = _text(raw_id)
                        body = json.loads(fields[b"e"])
                        _offer(queue, {"id": cursor, "kind": body["kind"], "data": body["data"]})
        finally:
            await client.aclose()

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        with self._lock:
            entry = self._readers.pop(id(queue), None)
        if entry is not None:
            entry[1].cancel()

    def publish(self, kind: str, data: dict[str, Any]) -> str:
        body = json.dumps({"kind": kind, "data": data}, ensure_ascii=False, default=str)
        raw = self._redis.xadd(self._stream, {"e": body}, maxlen=self._retention, approximate=True)
        return _text(raw)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        with self._lock:
            readers = list(self._readers.values())
            self._readers.clear()
        for _queue, task in readers:
            task.cancel()
        self._redis.close()

    @property
    def subscribers(self) -> int:
        return len(self._readers)


def build_event_bus(redis_url: str | None, *, retention: int = 10_000) -> EventBus | RedisEventBus:
    """A Redis bus when Redis is configured, else the in-process one."""
    if redis_url:
        return RedisEventBus(redis_url, retention=retention)
    return EventBus(retention=min(retention, 1000))


def _resync() -> Event:
    return {"id": None, "kind": RESYNC, "data": {}}


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _older(a: str, b: str) -> bool:
    """Whether stream id ``a`` comes before stream id ``b``."""
    ams, aseq = (int(x) for x in a.split("-"))
    bms, bseq = (int(x) for x in b.split("-"))
    return (ams, aseq) < (bms, bseq)


def _deliver(subs: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]], event: Event) -> None:
    for loop, queue in subs:
        if loop.is_closed():
            continue
        loop.call_soon_threadsafe(_offer, queue, event)


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    if queue.full():  # a slow console drops the oldest update rather than blocking the bot
        queue.get_nowait()
    queue.put_nowait(event)
