"""Working time (the business clock): working days of the official Chinese calendar, working hours, business
minutes.

``WorkingCalendar`` is pure and immutable: built once from the ``chinese-calendar`` package's data
(法定节假日 off, 调休 weekend days on), the admin's overrides ``{date: is_working}`` and the working-hour
spans (default 09:00–18:00 Asia/Shanghai), it answers without I/O. ``opscenter.calendar.service``
builds it from the database and caches it per process.

A year is *known* when the package has its schedule or at least one override falls in it (an admin
enters a year the package does not know yet, as the State Council publishes it each November). In a
known year a day without package data or override follows the week: Monday to Friday on, the weekend
off. Anything that needs an unknown year raises ``CalendarUnknown(year)``: the clock never guesses.

Speed: the working days of each run of consecutive known years are kept as one sorted list of day
ordinals, and every working day has the same hours, so the business position of an instant (working
microseconds since the run began) is one ``bisect`` plus arithmetic, and its inverse one list index.
Adding or measuring a year of business time costs the same as a minute: O(log n), no loop over days.

Asia/Shanghai has kept UTC+08:00 all year since 1991, before any year the package knows; the clock
uses that fixed offset rather than a zone lookup per call.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Final

from opscenter.errors import Conflict

_MINUTE_US: Final = 60_000_000
_DAY_US: Final = 86_400_000_000
_OFFSET_US: Final = 8 * 3_600_000_000  # Asia/Shanghai, UTC+08:00 (no daylight saving since 1991)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


class CalendarUnknown(Conflict):
    """The business clock needs a year with neither the package's schedule nor an admin's override.

    Answered as 409 ``calendar-unknown``: the request is sound, the calendar is missing; an admin enters
    the year's schedule as overrides (``PUT /api/v1/calendar/overrides/{day}``) and the request then works.
    """

    code = "calendar-unknown"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"The business calendar for {year} is not known: the official schedule of {year} has not been "
            f"entered. An admin must enter {year}'s holidays and adjusted working days as calendar overrides; "
            "business-hour deadlines are never guessed."
        )
        self.year = year


@dataclass(frozen=True, order=True)
class Span:
    """A working-hour span of a working day, local Asia/Shanghai time, ``start`` < ``end``."""

    start: time
    end: time

    @property
    def minutes(self) -> int:
        return _minute_of(self.end) - _minute_of(self.start)


DEFAULT_HOURS: Final = (Span(time(9), time(18)),)


@dataclass(frozen=True)
class OfficialDay:
    """What the official schedule says of a day: a holiday (off) or an adjusted working day (调休, on)."""

    is_working: bool
    name: str  # the holiday's Chinese name, e.g. 春节; an adjusted working day names the holiday it serves


@dataclass(frozen=True)
class OfficialCalendar:
    """The State Council's schedule for the years it covers, as the ``chinese-calendar`` package knows it."""

    years: frozenset[int]
    days: Mapping[date, OfficialDay]


@lru_cache(maxsize=1)
def official_calendar() -> OfficialCalendar:
    """The ``chinese-calendar`` package's data (2004 to 2026 in version 1.11), read once per process."""
    from chinese_calendar import constants  # the package's generated tables

    chinese = {holiday.value: holiday.chinese for holiday in constants.Holiday}
    days: dict[date, OfficialDay] = {}
    for day, english in constants.holidays.items():
        days[day] = OfficialDay(is_working=False, name=chinese.get(english, english))
    for day, english in constants.workdays.items():
        days[day] = OfficialDay(is_working=True, name=chinese.get(english, english))
    return OfficialCalendar(years=frozenset(day.year for day in constants.holidays), days=days)


def _minute_of(moment: time) -> int:
    # 24:00 cannot be a ``time``; time.max (23:59:59.999999) stands for the end of the day.
    return 1440 if moment == time.max else moment.hour * 60 + moment.minute


@dataclass(frozen=True)
class _Run:
    """Consecutive known years, ``first_year``…``last_year``: their working days as sorted ordinals."""

    first_year: int
    last_year: int
    first_ordinal: int
    last_ordinal: int
    working: list[int]


class WorkingCalendar:
    """Working days and working hours; business minutes added to and measured between UTC instants.

    Immutable once built. ``overrides`` maps a date to whether it is a working day, above the package's
    schedule and the week; ``hours`` are the working-hour spans of every working day (sorted, not
    overlapping, whole minutes). ``official`` is the package's data unless a test supplies its own.
    """

    __slots__ = ("_day_us", "_hours", "_official", "_overrides", "_runs", "_span_ends", "_span_starts")

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        hours: Iterable[Span] = DEFAULT_HOURS,
        official: OfficialCalendar | None = None,
    ) -> None:
        self._official = official if official is not None else official_calendar()
        self._overrides = dict(overrides or {})
        self._hours = _checked_hours(tuple(hours))
        # Within a working day, span j begins at _span_starts[j] µs after midnight and ends at _span_ends[j].
        self._span_starts = [_minute_of(span.start) * _MINUTE_US for span in self._hours]
        self._span_ends = [_minute_of(span.end) * _MINUTE_US for span in self._hours]
        self._day_us = sum(end - start for start, end in zip(self._span_starts, self._span_ends, strict=True))
        years = sorted(self._official.years | {day.year for day in self._overrides})
        self._runs = [self._run(first, last) for first, last in _consecutive(years)]

    # ---- what a caller asks ----------------------------------------------------------------------------

    @property
    def hours(self) -> tuple[Span, ...]:
        return self._hours

    @property
    def overrides(self) -> Mapping[date, bool]:
        return dict(self._overrides)

    def knows(self, year: int) -> bool:
        """Whether ``year`` has the package's schedule or at least one override."""
        return any(run.first_year <= year <= run.last_year for run in self._runs)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (an Asia/Shanghai date) is a working day; ``CalendarUnknown`` for an unknown year."""
        run = self._run_of(day.toordinal())
        index = bisect_left(run.working, day.toordinal())
        return index < len(run.working) and run.working[index] == day.toordinal()

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant at which ``minutes`` working minutes after ``start`` have passed, in UTC.

        Ends inside working hours (an end of span counts: 17:00 + 60 min is 18:00 the same day, not 09:00
        the next). ``minutes`` = 0 answers ``start``. ``CalendarUnknown`` when the way crosses or lands in a
        year the calendar does not know. ``start`` must be timezone-aware; negative minutes are refused.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        position, run = self._position(start)
        if minutes == 0:
            return start.astimezone(UTC)
        target = position + minutes * _MINUTE_US
        # The working day on which the target's minute ends: the k-th working day of the run, k from 0.
        k, into_day = divmod(target - 1, self._day_us)
        if k >= len(run.working):
            raise CalendarUnknown(run.last_year + 1)
        into_day += 1  # 1 … day length: the last microsecond of a day ends at the end of its last span
        span = 0
        while into_day > self._span_ends[span] - self._span_starts[span]:
            into_day -= self._span_ends[span] - self._span_starts[span]
            span += 1
        local_us = (run.working[k] - _EPOCH_ORDINAL) * _DAY_US + self._span_starts[span] + into_day
        return _EPOCH + timedelta(microseconds=local_us - _OFFSET_US)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same Asia/Shanghai wall time on the ``days``-th working day after ``start``'s date, in UTC.

        For "five working days after resolve": resolved on Friday 2026-02-13 15:00 (+08:00), five working
        days later is Friday 2026-02-27 15:00 (the 14th, a 调休 Saturday, counts; the festival does not).
        ``days`` = 0 answers ``start``. ``CalendarUnknown`` as ``add_business_minutes``.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        local_us = _local_us(start)
        ordinal = local_us // _DAY_US + _EPOCH_ORDINAL
        run = self._run_of(ordinal)
        if days == 0:
            return start.astimezone(UTC)
        index = bisect_right(run.working, ordinal) + days - 1
        if index >= len(run.working):
            raise CalendarUnknown(run.last_year + 1)
        return start.astimezone(UTC) + timedelta(days=run.working[index] - ordinal)

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes from ``start`` to ``end`` (0 when ``end`` <= ``start``), rounded down.

        The inverse of ``add_business_minutes``: ``between(s, add(s, m)) == m``. ``CalendarUnknown`` when
        the interval touches a year the calendar does not know. Both instants must be timezone-aware.
        """
        if end <= start:
            return 0
        first, run = self._position(start)
        if _local_us(end) // _DAY_US + _EPOCH_ORDINAL > run.last_ordinal:
            raise CalendarUnknown(run.last_year + 1)
        last, _ = self._position(end)
        return (last - first) // _MINUTE_US

    # ---- the precomputation ----------------------------------------------------------------------------

    def _run(self, first_year: int, last_year: int) -> _Run:
        first, last = date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()
        working = [ordinal for ordinal in range(first, last + 1) if self._decide(date.fromordinal(ordinal))]
        return _Run(first_year, last_year, first, last, working)

    def _decide(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        official = self._official.days.get(day)
        if official is not None:
            return official.is_working
        return day.weekday() < 5

    def _run_of(self, ordinal: int) -> _Run:
        for run in self._runs:
            if run.first_ordinal <= ordinal <= run.last_ordinal:
                return run
        raise CalendarUnknown(date.fromordinal(ordinal).year)

    def _position(self, instant: datetime) -> tuple[int, _Run]:
        """Working microseconds from the start of its run of known years to ``instant``; and that run."""
        local_us = _local_us(instant)
        days, into_day = divmod(local_us, _DAY_US)
        ordinal = days + _EPOCH_ORDINAL
        run = self._run_of(ordinal)
        index = bisect_left(run.working, ordinal)
        position = index * self._day_us
        if index < len(run.working) and run.working[index] == ordinal:
            # Worked so far today: whole spans already ended, plus the part of the span under way.
            ended = bisect_right(self._span_ends, into_day)
            for span in range(ended):
                position += self._span_ends[span] - self._span_starts[span]
            if ended < len(self._span_starts) and into_day > self._span_starts[ended]:
                position += into_day - self._span_starts[ended]
        return position, run


def _local_us(instant: datetime) -> int:
    """Microseconds from 1970-01-01 00:00 Asia/Shanghai wall time to ``instant``'s wall time there."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    since = instant - _EPOCH
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds + _OFFSET_US


def _checked_hours(hours: tuple[Span, ...]) -> tuple[Span, ...]:
    if not hours:
        raise ValueError("a working day needs at least one span of working hours")
    ordered = tuple(sorted(hours))
    for span in ordered:
        if (
            span.start.second
            or span.start.microsecond
            or (span.end != time.max and (span.end.second or span.end.microsecond))
        ):
            raise ValueError(f"working hours are whole minutes: {span}")
        if span.minutes <= 0:
            raise ValueError(f"a span of working hours must end after it starts: {span}")
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"working-hour spans overlap: {before} and {after}")
    return ordered


def _consecutive(years: list[int]) -> list[tuple[int, int]]:
    """Sorted years as runs of consecutive ones: [2004, 2005, 2028] → [(2004, 2005), (2028, 2028)]."""
    runs: list[tuple[int, int]] = []
    for year in years:
        if runs and runs[-1][1] == year - 1:
            runs[-1] = (runs[-1][0], year)
        else:
            runs.append((year, year))
    return runs
