"""Injected time: every component asks a Clock, never the system directly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware."""

    def __init__(self, tz: timezone | None = None) -> None:
        self._tz = tz

    def now(self) -> datetime:
        return datetime.now(self._tz or timezone.utc).astimezone(self._tz)


class FrozenClock:
    """A clock that stands still until moved; transcripts replay against it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at = self._at + delta
