"""Server-sent events from the event bus, with ids and ``Last-Event-ID`` resume.

Each event goes out with its bus id (``id:``). A browser's ``EventSource`` sends the last id
it saw as ``Last-Event-ID`` when it reconnects (a client that cannot set headers may pass
``?last_event_id=``); the stream then starts with what was missed. With the Redis bus that
holds across workers: a console may reconnect to any process.

A stopping server (``app.state.draining`` set) ends its streams, so shutdown is not held
up by consoles; they reconnect, to another replica, after ``retry`` milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import StreamingResponse

KEEPALIVE_S = 15.0
RETRY_MS = 2000
_POLL_S = 1.0  # how often a quiet stream looks at the client and at shutdown


class Bus(Protocol):
    def subscribe(self, after: str | None = None) -> asyncio.Queue[dict[str, Any]]: ...

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None: ...


def last_event_id(request: Request) -> str | None:
    value = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    value = (value or "").strip()
    return value[:64] or None


def format_event(event: dict[str, Any]) -> str:
    payload = json.dumps(event, ensure_ascii=False, default=str)
    head = f"id: {event['id']}\n" if event.get("id") else ""
    return f"{head}event: {event['kind']}\ndata: {payload}\n\n"


def event_stream(
    request: Request, bus: Bus, accept: Callable[[dict[str, Any]], bool]
) -> StreamingResponse:
    draining: asyncio.Event | None = getattr(request.app.state, "draining", None)
    after = last_event_id(request)

    async def gen() -> AsyncIterator[str]:
        queue = bus.subscribe(after=after)
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            quiet_since = time.monotonic()
            while not await request.is_disconnected():
                if draining is not None and draining.is_set():
                    return
                try:
                    event = await asyncio.wait_for(queue.get(), _POLL_S)
                except asyncio.TimeoutError:
                    if time.monotonic() - quiet_since >= KEEPALIVE_S:
                        quiet_since = time.monotonic()
                        yield ": keepalive\n\n"
                    continue
                if event.get("id") is None or accept(event):  # a resync concerns every listener
                    quiet_since = time.monotonic()
                    yield format_event(event)
        finally:
            bus.unsubscribe(queue)

    return StreamingResponse(
        gen(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
