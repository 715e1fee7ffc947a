"""Injected time: every component asks a Clock, never the system directly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware."""

    def __init__(self, tz: tzinfo | None = None) -> None:
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


class OffsetClock:
    """Wall-clock time shifted so that it reads ``start`` at construction and then advances
    in real time (demo mode: a shop's promotions and orders stay current on any day)."""

    def __init__(self, start: datetime, tz: tzinfo | None = None, *, base: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("OffsetClock needs a timezone-aware start")
        self._base = base or SystemClock(tz)
        self._tz = tz or start.tzinfo
        self._offset = start - self._base.now()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return (self._base.now() + self._offset).astimezone(self._tz)
