"""With Redis configured, the rate-limit counters are shared: two limiters (two processes)
count one buyer's messages together."""

from __future__ import annotations

import pytest

from bot.api.ratelimit import build_rate_limiter
from bot.config import Settings
from tests.scaleout.conftest import Backends

pytestmark = pytest.mark.multiprocess


def test_two_limiters_on_one_redis_share_the_count(backends: Backends) -> None:
    settings = Settings(rate_limits=True, redis_url=backends.redis_url, rate_limit_chat="3/minute")
    a, b = build_rate_limiter(settings), build_rate_limiter(settings)
    verdicts = [limiter.hit("chat", "b01").allowed for limiter in (a, b, a, b)]
    assert verdicts == [True, True, True, False]
    assert not a.check("chat", "b01").allowed and b.check("chat", "b02").allowed


def test_without_redis_each_process_counts_alone() -> None:
    settings = Settings(rate_limits=True, rate_limit_chat="3/minute")
    a, b = build_rate_limiter(settings), build_rate_limiter(settings)
    assert [limiter.hit("chat", "b01").allowed for limiter in (a, b, a, b)] == [True] * 4
