"""Server-sent events from the in-process event bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from bot.events import EventBus

KEEPALIVE_S = 15.0


def event_stream(
    request: Request, bus: EventBus, accept: Callable[[dict[str, Any]], bool]
) -> StreamingResponse:
    async def gen() -> AsyncIterator[str]:
        queue = bus.subscribe()
        try:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if accept(event):
                    payload = json.dumps(event, ensure_ascii=False, default=str)
                    yield f"event: {event['kind']}\ndata: {payload}\n\n"
        finally:
            bus.unsubscribe(queue)

    return StreamingResponse(
        gen(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
