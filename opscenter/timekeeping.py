"""Time, in one place: aware UTC instants for storage, Asia/Shanghai for business dates and months.

Every other module asks this one for "now", for the business date of an instant and for the bounds
of a period, so that no naive datetime and no server-local timezone ever leaks into the data.
"""

import calendar
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A month as the API writes it, within the calendar the API accepts (1970…2999, see opscenter.schemas).
PERIOD_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN, re.ASCII)


# Replaying history (`replaying`): how far this context's clock is set back from the real one; None nearly always.
_REPLAY_OFFSET: ContextVar[timedelta | None] = ContextVar("opscenter_replay_offset", default=None)


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC (inside ``replaying``, the replayed one)."""
    offset = _REPLAY_OFFSET.get()
    return datetime.now(UTC) if offset is None else datetime.now(UTC) + offset


@contextmanager
def replaying(instant: datetime) -> Iterator[None]:
    """Within the block, in this context only, now is ``instant`` (plus the time the block has taken so far):
    for building a history step by step as it happened (``opscenter demo``). Other threads and requests keep
    the real clock. Nothing may be replayed in the future: that would be a forecast, not a history."""
    real = datetime.now(UTC)
    if as_utc(instant) > real:
        raise ValueError(f"cannot replay {instant.isoformat()}: it has not happened yet")
    token = _REPLAY_OFFSET.set(as_utc(instant) - real)
    try:
        yield
    finally:
        _REPLAY_OFFSET.reset(token)


def as_utc(instant: datetime) -> datetime:
    """An aware instant converted to UTC; a naive one is refused rather than guessed."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(UTC)


def business_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date on which ``instant`` falls."""
    return as_utc(instant).astimezone(SHANGHAI).date()


def today() -> date:
    """Today's business date (Asia/Shanghai)."""
    return business_date(utcnow())


def start_of_day(day: date) -> datetime:
    """The UTC instant at which the Asia/Shanghai day ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def days_between(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end`` inclusive; 0 when ``end`` is before ``start``."""
    return max((end - start).days + 1, 0)


@functools.cache
def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True, order=True)
class Period:
    """A business month, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _PERIOD.match(text)
        if match is None:
            raise ValueError("must be a month written YYYY-MM, 1970-01 to 2999-12")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Self:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return _days_in_month(self.year, self.month)

    def next(self) -> "Period":
        return Period.of(self.last_day + timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """The half-open UTC interval [start, end) of the month in Asia/Shanghai."""
        return start_of_day(self.first_day), start_of_day(self.next().first_day)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
