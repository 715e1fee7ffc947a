"""When an unprompted message may go: outside the shop's quiet hours, within the daily cap."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo

_HOURS = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


class QuietHours:
    """``22:00-08:00`` in the shop's timezone; a window may cross midnight."""

    def __init__(self, spec: str, tz: tzinfo) -> None:
        m = _HOURS.match(spec.strip())
        if m is None:
            raise ValueError(f"quiet hours must look like 22:00-08:00, not {spec!r}")
        self._start = int(m[1]) * 60 + int(m[2])
        self._end = int(m[3]) * 60 + int(m[4])
        self._tz = tz
        self.spec = spec.strip()

    def holds(self, at: datetime) -> bool:
        """Nothing may be sent at ``at``."""
        local = at.astimezone(self._tz)
        minute = local.hour * 60 + local.minute
        if self._start == self._end:
            return False
        if self._start < self._end:
            return self._start <= minute < self._end
        return minute >= self._start or minute < self._end


def day_start(at: datetime, tz: tzinfo) -> datetime:
    """Midnight of ``at``'s day in the shop's timezone."""
    local = at.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def next_day(at: datetime, tz: tzinfo) -> datetime:
    return day_start(at, tz) + timedelta(days=1)


# A message whose moment passed longer ago than this is not started at all: a shop that
# starts on old data (or after a long stop) does not greet buyers with stale reminders.
STALE_AFTER = timedelta(days=1)


def fresh(due: datetime, now: datetime) -> bool:
    """``due`` has come and is not stale."""
    return due <= now <= due + STALE_AFTER
