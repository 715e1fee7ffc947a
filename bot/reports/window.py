"""The time window of a report: conversations opened in ``[since, until)``.

Dates without a time mean whole days in the shop's time zone: ``--since 2026-11-20
--until 2026-11-21`` is the two days of the 20th and the 21st. A window that ends before it
starts holds nothing; a bound at the edge of the calendar is no bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from bot.errors import TellCustomer


@dataclass(frozen=True)
class ReportWindow:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise ValueError("a report window needs aware datetimes")

    @property
    def backwards(self) -> bool:
        """It ends before it starts, so it holds nothing."""
        return self.since is not None and self.until is not None and self.since >= self.until

    def contains(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    @classmethod
    def of(cls, since: date | datetime | None, until: date | datetime | None, tz: tzinfo) -> ReportWindow:
        """A date is a whole day in ``tz`` (``until``'s day included); a time without an
        offset is in ``tz``, and ``until`` as a time is excluded."""
        return cls(_bound(since, tz, end=False), _bound(until, tz, end=True))

    @classmethod
    def parse(cls, since: str | None, until: str | None, tz: tzinfo) -> ReportWindow:
        """``since``/``until`` as ``YYYY-MM-DD`` or ISO 8601 times (see :meth:`of`)."""
        return cls.of(_read(since), _read(until), tz)


def _read(text: str | None) -> date | datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise TellCustomer(f"无法识别的时间：{text}（请用 2026-11-20 或 2026-11-20T10:00:00+08:00）") from None


def _bound(value: date | datetime | None, tz: tzinfo, *, end: bool) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            moment = value if value.tzinfo is not None else value.replace(tzinfo=tz)
        else:
            moment = datetime.combine(value, time(0), tzinfo=tz)
            moment = moment + timedelta(days=1) if end else moment
        moment.astimezone(timezone.utc)  # stored times are UTC: the bound must be one too
    except OverflowError:
        return None  # the first or the last day of the calendar: no bound at all
    return moment
