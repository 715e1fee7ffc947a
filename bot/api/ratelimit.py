"""Rate limits on logins and chat, behind a small :class:`RateLimiter` protocol.

:class:`LimitsRateLimiter` counts with the ``limits`` library in a moving window. Its
counters live in the storage a URL names: ``memory://`` (this process) by default; any
storage the library knows, such as ``redis://host:6379`` with the ``redis`` package
installed, shares them between processes; with ``XIAOER_REDIS_URL`` set and no storage of
their own, the counters live in that Redis. :class:`NoRateLimits` lifts every limit (eval
mode, ``XIAOER_RATE_LIMITS=false``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.config import Settings
from bot.errors import ConfigError

Rule = Literal["login_user", "login_ip", "demo_login", "chat"]
RULES: tuple[Rule, ...] = get_args(Rule)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0  # whole seconds until one more attempt is allowed, when refused


class RateLimiter(Protocol):
    def hit(self, rule: Rule, key: str) -> Verdict:
        """Count one attempt under ``rule`` for ``key``; refused (and not counted) when over."""

    def check(self, rule: Rule, key: str) -> Verdict:
        """Whether one more attempt would be allowed, counting nothing."""

    def clear(self, rule: Rule, key: str) -> None:
        """Forget the attempts counted for ``key`` (a successful login clears its failures)."""


class NoRateLimits:
    def hit(self, rule: Rule, key: str) -> Verdict:
        return Verdict(True)

    def check(self, rule: Rule, key: str) -> Verdict:
        return Verdict(True)

    def clear(self, rule: Rule, key: str) -> None:
        return None


class LimitsRateLimiter:
    """Moving-window limits, e.g. ``{"chat": "30/minute", "login_user": "5/minute"}``."""

    def __init__(
        self,
        rules: Mapping[Rule, str],
        storage_url: str = "memory://",
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        unknown = set(rules) - set(RULES)
        if unknown:
            raise ConfigError(f"unknown rate-limit rules: {', '.join(sorted(unknown))}")
        self._items: dict[Rule, RateLimitItem] = {}
        for rule, text in rules.items():
            try:
                self._items[rule] = parse(text)
            except ValueError:
                raise ConfigError(
                    f"限流设置 {rule} 无法解析：{text!r}（应如 5/minute）/ cannot parse rate limit {text!r}"
                ) from None
        try:
            storage = storage_from_string(storage_url)
        except ConfigurationError as exc:
            raise ConfigError(f"限流存储不可用 / rate-limit storage unusable: {storage_url}: {exc}") from None
        self._limiter = MovingWindowRateLimiter(storage)
        self._now = now

    def hit(self, rule: Rule, key: str) -> Verdict:
        item = self._items.get(rule)
        if item is None or self._limiter.hit(item, rule, key):
            return Verdict(True)
        return self._refused(item, rule, key)

    def check(self, rule: Rule, key: str) -> Verdict:
        item = self._items.get(rule)
        if item is None or self._limiter.test(item, rule, key):
            return Verdict(True)
        return self._refused(item, rule, key)

    def clear(self, rule: Rule, key: str) -> None:
        item = self._items.get(rule)
        if item is not None:
            self._limiter.clear(item, rule, key)

    def _refused(self, item: RateLimitItem, rule: Rule, key: str) -> Verdict:
        reset_at = self._limiter.get_window_stats(item, rule, key).reset_time
        return Verdict(False, max(1, math.ceil(reset_at - self._now())))


def build_rate_limiter(settings: Settings, *, lifted: bool = False) -> RateLimiter:
    """The limiter the settings ask for; ``lifted`` (eval mode) turns every limit off."""
    if lifted or not settings.rate_limits:
        return NoRateLimits()
    rules: dict[Rule, str] = {
        "login_user": settings.rate_limit_login,
        "login_ip": settings.rate_limit_login_ip,
        "demo_login": settings.rate_limit_demo_login,
        "chat": settings.rate_limit_chat,
    }
    storage = settings.rate_limit_storage
    if storage == "memory://" and settings.redis_url:  # one Redis serves every process
        storage = settings.redis_url
    return LimitsRateLimiter(rules, storage)
