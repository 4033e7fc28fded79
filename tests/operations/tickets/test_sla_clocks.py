"""The ticket clocks as pure functions, on the real 2026 calendar (chinese-calendar's data)."""

from datetime import date, datetime, timedelta

import pytest

from contracts.terms import Clock, ContractTerms, Priority
from operations.tickets import sla_clocks
from operations.tickets.sla_clocks import BusinessCalendar
from opscenter.calendar.working_time import CalendarUnknown, WorkingCalendar
from tests.operations.tickets.steps import beijing

CALENDAR = WorkingCalendar()
TERMS = ContractTerms()


def calendar() -> BusinessCalendar:
    return CALENDAR


def no_calendar() -> BusinessCalendar:
    raise AssertionError("a 24x7 clock must not need the working calendar")


def due(priority: Priority, opened_at: datetime, paused_seconds: int = 0) -> sla_clocks.DueTimes:
    target = TERMS.ticket_targets[priority]
    source = calendar if target.clock is Clock.BUSINESS else no_calendar
    return sla_clocks.due_times(
        target.clock,
        source,
        opened_at=opened_at,
        response_minutes=target.response_minutes,
        resolution_minutes=target.resolution_minutes,
        paused_seconds=paused_seconds,
    )


def test_four_working_hours_after_friday_17_00_is_the_adjusted_saturday_at_noon() -> None:
    # P3: response 240 business minutes. 2026-02-14 is a Saturday worked in exchange (调休).
    assert due(Priority.P3, beijing(2026, 2, 13, 17)).response == beijing(2026, 2, 14, 12)


def test_a_business_deadline_across_the_spring_festival_skips_the_holidays() -> None:
    # P3: resolution 1620 minutes = three 9-hour days. Opened Saturday 2026-02-14 09:00 (a working day):
    # the 14th is day one, then 2026-02-15…23 are off, so days two and three are the 24th and the 25th.
    assert due(Priority.P3, beijing(2026, 2, 14, 9)).resolution == beijing(2026, 2, 25, 18)


@pytest.mark.parametrize(
    ("priority", "response", "resolution", "escalation"),
    [
        (Priority.P1, timedelta(minutes=15), timedelta(minutes=240), timedelta(minutes=180)),
        (Priority.P2, timedelta(minutes=30), timedelta(minutes=480), timedelta(minutes=360)),
    ],
)
def test_a_24x7_clock_ignores_the_calendar_even_in_an_unknown_year(
    priority: Priority, response: timedelta, resolution: timedelta, escalation: timedelta
) -> None:
    # Spring Festival eve 2026, and a year no calendar knows: wall time all the same.
    for opened in (beijing(2026, 2, 16, 23, 50), beijing(2031, 7, 1, 3)):
        times = due(priority, opened)
        assert (times.response, times.resolution, times.escalation) == (
            opened + response,
            opened + resolution,
            opened + escalation,
        )


def test_a_business_deadline_needing_an_unknown_year_is_refused_naming_it() -> None:
    with pytest.raises(CalendarUnknown, match="2027"):
        due(Priority.P4, beijing(2026, 12, 30, 10))


def test_a_pause_moves_the_resolution_due_time_by_its_length_on_the_ticket_clock() -> None:
    opened = beijing(2026, 3, 2, 10)  # a Monday
    # Paused from Monday 16:00 to Tuesday 11:00: two working hours on Monday, two on Tuesday.
    paused = sla_clocks.elapsed_seconds(Clock.BUSINESS, calendar, beijing(2026, 3, 2, 16), beijing(2026, 3, 3, 11))
    assert paused == 4 * 3600
    before, after = due(Priority.P3, opened), due(Priority.P3, opened, paused)
    assert CALENDAR.business_minutes_between(before.resolution, after.resolution) == 240
    assert after.response == before.response  # the response clock never pauses
    wall = sla_clocks.elapsed_seconds(Clock.ALWAYS, no_calendar, beijing(2026, 3, 2, 16), beijing(2026, 3, 3, 11))
    assert wall == 19 * 3600
    assert due(Priority.P1, opened, wall).resolution == due(Priority.P1, opened).resolution + timedelta(hours=19)


@pytest.mark.parametrize(
    ("resolution_minutes", "escalation_minutes"), [(240, 180), (1620, 1215), (2700, 2025), (1, 1), (10, 8)]
)
def test_escalation_comes_at_three_quarters_of_the_resolution_time_never_early(
    resolution_minutes: int, escalation_minutes: int
) -> None:
    assert sla_clocks.escalation_minutes(resolution_minutes) == escalation_minutes


@pytest.mark.parametrize(
    ("resolved_at", "closes_at"),
    [
        # Friday before the Spring Festival: Saturday the 14th works, then the 24th … 27th.
        (beijing(2026, 2, 13, 15), beijing(2026, 2, 27, 15)),
        # An ordinary Monday evening: the next Monday, same time.
        (beijing(2026, 3, 2, 20, 30), beijing(2026, 3, 9, 20, 30)),
        # Resolved on a Sunday night: five working days are Monday to Friday.
        (beijing(2026, 3, 8, 23), beijing(2026, 3, 13, 23)),
    ],
)
def test_a_resolved_ticket_closes_itself_five_working_days_later(resolved_at: datetime, closes_at: datetime) -> None:
    assert sla_clocks.auto_close_at(CALENDAR, resolved_at) == closes_at


def test_auto_close_needing_an_unknown_year_is_refused() -> None:
    with pytest.raises(CalendarUnknown, match="2027"):
        sla_clocks.auto_close_at(CALENDAR, beijing(2026, 12, 29, 10))
    entered = WorkingCalendar({date(2027, 1, 1): False})
    assert sla_clocks.auto_close_at(entered, beijing(2026, 12, 29, 10)) == beijing(2027, 1, 6, 10)


@pytest.mark.parametrize(
    ("after", "may"), [(timedelta(days=10), True), (timedelta(days=10, seconds=1), False), (timedelta(0), True)]
)
def test_a_department_may_reopen_within_ten_days_of_the_resolution(after: timedelta, may: bool) -> None:
    resolved = beijing(2026, 3, 2, 10)
    assert sla_clocks.may_reopen(resolved, resolved + after) is may
