"""The event buses: ids in order, resume after the last id seen, a resync when too much was
missed; the Redis bus carries events between two buses (two processes) on one stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.events import RESYNC, EventBus, RedisEventBus


async def _drain(queue: asyncio.Queue[dict[str, Any]], n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(queue.get(), timeout) for _ in range(n)]


def test_in_process_events_carry_increasing_ids() -> None:
    async def run() -> list[dict[str, Any]]:
        bus = EventBus()
        queue = bus.subscribe()
        bus.publish("turn", {"n": 1})
        bus.publish("turn", {"n": 2})
        return await _drain(queue, 2)

    got = asyncio.run(run())
    assert [e["data"]["n"] for e in got] == [1, 2]
    assert int(got[0]["id"]) < int(got[1]["id"])


def test_in_process_resume_gets_exactly_what_was_missed() -> None:
    async def run() -> list[dict[str, Any]]:
        bus = EventBus()
        seen = bus.publish("message", {"n": 1})
        bus.publish("message", {"n": 2})
        bus.publish("message", {"n": 3})
        queue = bus.subscribe(after=seen)
        bus.publish("message", {"n": 4})
        got = await _drain(queue, 3)
        assert queue.empty()
        return got

    assert [e["data"]["n"] for e in asyncio.run(run())] == [2, 3, 4]


def test_in_process_resume_past_the_kept_events_starts_with_a_resync() -> None:
    async def run() -> list[dict[str, Any]]:
        bus = EventBus(retention=2)
        seen = bus.publish("message", {"n": 1})
        for n in (2, 3, 4):
            bus.publish("message", {"n": n})
        return await _drain(bus.subscribe(after=seen), 3)

    got = asyncio.run(run())
    assert got[0]["kind"] == RESYNC and [e["data"]["n"] for e in got[1:]] == [3, 4]


def test_in_process_garbage_last_id_is_a_live_stream() -> None:
    async def run() -> bool:
        bus = EventBus()
        bus.publish("message", {"n": 1})
        return bus.subscribe(after="<script>").empty()

    assert asyncio.run(run())


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    from tests.scaleout.servers import redis_server

    with redis_server() as url:
        yield url


def test_redis_bus_carries_events_between_two_buses_and_resumes(redis_url: str) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        here = RedisEventBus(redis_url, stream="t:events:a", block_ms=200)
        there = RedisEventBus(redis_url, stream="t:events:a", block_ms=200)
        live = there.subscribe()
        first = here.publish("message", {"n": 1})
        here.publish("message", {"n": 2})
        got_live = await _drain(live, 2)
        resumed = await _drain(there.subscribe(after=first), 1)
        here.close()
        there.close()
        return got_live, resumed

    got_live, resumed = asyncio.run(run())
    assert [e["data"]["n"] for e in got_live] == [1, 2]
    assert [e["data"]["n"] for e in resumed] == [2] and resumed[0]["id"] == got_live[1]["id"]


def test_redis_bus_resync_when_the_last_id_was_trimmed(redis_url: str) -> None:
    async def run() -> list[dict[str, Any]]:
        bus = RedisEventBus(redis_url, stream="t:events:b", retention=1, block_ms=200)
        seen = bus.publish("message", {"n": 0})
        bus._redis.xtrim("t:events:b", maxlen=1, approximate=False)  # what MAXLEN does over time
        for n in (1, 2):
            bus.publish("message", {"n": n})
        bus._redis.xtrim("t:events:b", maxlen=1, approximate=False)
        got = await _drain(bus.subscribe(after=seen), 2)
        bus.close()
        return got

    got = asyncio.run(run())
    assert got[0]["kind"] == RESYNC and got[1]["data"]["n"] == 2
