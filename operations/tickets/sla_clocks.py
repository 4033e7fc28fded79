"""SLA clock arithmetic for tickets, as pure functions: due times, paused time, auto-close and reopen windows.

A ticket's clock is ``24x7`` (wall time) or ``business`` (working minutes on the official calendar). The
business calendar is passed as a callable that returns it, and is only called for business clocks: a
``24x7`` ticket never needs a calendar, not even for a year the calendar does not know.

Times are whole seconds. On the business clock they are whole minutes (the calendar counts minutes).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from contracts.terms import Clock
from opscenter.timekeeping import as_utc

# The escalation flag rises when this share of the resolution time has passed.
ESCALATION_NUMERATOR, ESCALATION_DENOMINATOR = 3, 4
AUTO_CLOSE_WORKING_DAYS = 5
REOPEN_WINDOW = timedelta(days=10)


class BusinessCalendar(Protocol):
    """What the ticket clocks need of the working calendar (``opscenter.calendar.working_time.WorkingCalendar``)."""

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime: ...

    def business_minutes_between(self, start: datetime, end: datetime) -> int: ...

    def is_working_day(self, day: date) -> bool: ...

    def add_working_days(self, start: datetime, days: int) -> datetime: ...


CalendarSource = Callable[[], BusinessCalendar]


@dataclass(frozen=True)
class DueTimes:
    response: datetime
    resolution: datetime
    escalation: datetime


def escalation_minutes(resolution_minutes: int) -> int:
    """75 % of the resolution time, in whole minutes, rounded up (the flag never rises early)."""
    return math.ceil(resolution_minutes * ESCALATION_NUMERATOR / ESCALATION_DENOMINATOR)


def advance(clock: Clock, calendar: CalendarSource, start: datetime, seconds: int) -> datetime:
    """The instant ``seconds`` of ``clock`` time after ``start``."""
    if clock is Clock.ALWAYS:
        return as_utc(start) + timedelta(seconds=seconds)
    return as_utc(calendar().add_business_minutes(start, seconds // 60))


def elapsed_seconds(clock: Clock, calendar: CalendarSource, start: datetime, end: datetime) -> int:
    """How much ``clock`` time passes from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    if clock is Clock.ALWAYS:
        return int((end - start).total_seconds())
    return calendar().business_minutes_between(start, end) * 60


def due_times(
    clock: Clock,
    calendar: CalendarSource,
    *,
    opened_at: datetime,
    response_minutes: int,
    resolution_minutes: int,
    paused_seconds: int = 0,
) -> DueTimes:
    """The due times of a ticket opened at ``opened_at``, its resolution clock having stood still for
    ``paused_seconds`` so far. The response clock never pauses: it stops at acknowledgement."""
    return DueTimes(
        response=advance(clock, calendar, opened_at, response_minutes * 60),
        resolution=advance(clock, calendar, opened_at, resolution_minutes * 60 + paused_seconds),
        escalation=advance(clock, calendar, opened_at, escalation_minutes(resolution_minutes) * 60 + paused_seconds),
    )


def auto_close_at(calendar: BusinessCalendar, resolved_at: datetime) -> datetime:
    """Five working days after ``resolved_at``: the same time of day (Asia/Shanghai) on the fifth working day
    after the day it was resolved."""
    return as_utc(calendar.add_working_days(resolved_at, AUTO_CLOSE_WORKING_DAYS))


def may_reopen(resolved_at: datetime, now: datetime) -> bool:
    """A department may reopen within ten days of the resolution."""
    return now <= resolved_at + REOPEN_WINDOW
