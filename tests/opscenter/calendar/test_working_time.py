"""The business clock on the real 2026 calendar (chinese-calendar's data), and its laws checked by Hypothesis."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import litestar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import create_test_client

from opscenter.calendar.working_time import CalendarUnknown, Span, WorkingCalendar
from opscenter.errors import EXCEPTION_HANDLERS

BEIJING = timezone(timedelta(hours=8))
CALENDAR = WorkingCalendar()
LUNCH_BREAK = WorkingCalendar(hours=[Span(time(13, 30), time(18)), Span(time(9), time(12))])


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday, 调休: worked for the festival
        (date(2026, 2, 15), False),  # Sunday, first day of the festival
        (date(2026, 2, 23), False),  # Monday, last day of the festival
        (date(2026, 2, 24), True),
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 10, 10), True),  # Saturday, 调休 for National Day
        (date(2026, 10, 1), False),
    ],
)
def test_working_days_follow_the_official_2026_schedule(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # 60 minutes on Friday, the other 180 on the 调休 Saturday
        (beijing(2026, 2, 13, 17), 240, beijing(2026, 2, 14, 12)),
        # Saturday's working day ends; the next nine days are the Spring Festival (2026-02-15…23)
        (beijing(2026, 2, 14, 17), 120, beijing(2026, 2, 24, 10)),
        (beijing(2026, 2, 14, 17), 60, beijing(2026, 2, 14, 18)),  # the end of a working day is an end
        (beijing(2026, 2, 16, 10), 1, beijing(2026, 2, 24, 9, 1)),  # started inside the holiday
        (beijing(2026, 2, 13, 7), 540, beijing(2026, 2, 13, 18)),  # before opening: the clock waits for 09:00
        (beijing(2026, 2, 13, 21), 0, beijing(2026, 2, 13, 21)),  # nothing to add: the start itself
        (beijing(2026, 3, 6, 9), 1620, beijing(2026, 3, 10, 18)),  # P3's three working days, over a weekend
    ],
)
def test_business_minutes_are_added_on_working_hours_only(start: datetime, minutes: int, due: datetime) -> None:
    assert CALENDAR.add_business_minutes(start, minutes) == due
    assert CALENDAR.add_business_minutes(start, minutes).tzinfo is UTC
    assert CALENDAR.business_minutes_between(start, due) == minutes


def test_a_deadline_across_the_spring_festival_skips_the_holidays() -> None:
    # One working day (540 min) from Saturday 2026-02-14 12:00: 360 left on Saturday… then Tuesday the 24th.
    due = CALENDAR.add_business_minutes(beijing(2026, 2, 14, 12), 540)
    assert due == beijing(2026, 2, 24, 12)
    for day in range(15, 24):
        assert CALENDAR.business_minutes_between(beijing(2026, 2, day), beijing(2026, 2, day + 1)) == 0


def test_a_business_deadline_needing_2027_without_overrides_is_refused_naming_the_year() -> None:
    with pytest.raises(CalendarUnknown, match="2027") as refused:
        CALENDAR.add_business_minutes(beijing(2026, 12, 31, 17), 120)
    assert refused.value.year == 2027
    assert (refused.value.status, refused.value.code) == (409, "calendar-unknown")
    with pytest.raises(CalendarUnknown, match="2027"):
        CALENDAR.add_business_minutes(beijing(2027, 3, 1, 10), 10)
    with pytest.raises(CalendarUnknown, match="2027"):
        CALENDAR.business_minutes_between(beijing(2026, 12, 31, 10), beijing(2027, 1, 4, 10))
    with pytest.raises(CalendarUnknown, match="2027"):
        CALENDAR.is_working_day(date(2027, 1, 4))
    with pytest.raises(CalendarUnknown, match="2003"):
        CALENDAR.is_working_day(date(2003, 6, 2))


def test_with_overrides_for_2027_the_deadline_is_computed() -> None:
    # The admin entered 2027's New Year: 1 January (a Friday) off.
    entered = WorkingCalendar({date(2027, 1, 1): False})
    assert entered.knows(2027)
    assert entered.add_business_minutes(beijing(2026, 12, 31, 17), 120) == beijing(2027, 1, 4, 10)
    assert entered.business_minutes_between(beijing(2026, 12, 31, 17), beijing(2027, 1, 4, 10)) == 120
    # …and a year beyond it is still unknown
    with pytest.raises(CalendarUnknown, match="2028"):
        entered.add_business_minutes(beijing(2027, 12, 31, 17), 120)


def test_a_gap_between_known_years_is_not_crossed() -> None:
    # 2028 entered, 2027 not: a deadline from late 2026 still needs 2027.
    with_2028 = WorkingCalendar({date(2028, 1, 3): False})
    assert with_2028.add_business_minutes(beijing(2028, 1, 3, 10), 60) == beijing(2028, 1, 4, 10)
    with pytest.raises(CalendarUnknown, match="2027"):
        with_2028.business_minutes_between(beijing(2026, 12, 31, 10), beijing(2028, 1, 5, 10))


def test_overrides_win_over_the_package_and_the_week() -> None:
    corrected = WorkingCalendar({date(2026, 2, 14): False, date(2026, 3, 7): True})
    assert not corrected.is_working_day(date(2026, 2, 14))
    assert corrected.is_working_day(date(2026, 3, 7))
    assert corrected.add_business_minutes(beijing(2026, 2, 13, 17), 240) == beijing(2026, 2, 24, 12)


def test_working_days_are_counted_as_the_state_council_set_them() -> None:
    resolved = beijing(2026, 2, 13, 15)  # Friday before the Spring Festival
    assert CALENDAR.add_working_days(resolved, 1) == beijing(2026, 2, 14, 15)  # the 调休 Saturday
    assert CALENDAR.add_working_days(resolved, 5) == beijing(2026, 2, 27, 15)
    assert CALENDAR.add_working_days(beijing(2026, 2, 16, 10), 1) == beijing(2026, 2, 24, 10)  # from a holiday
    assert CALENDAR.add_working_days(resolved, 0) == resolved
    # a working day's minutes: 540 from 09:00 to 18:00, 450 with a lunch break
    assert CALENDAR.business_minutes_between(beijing(2026, 3, 2, 0), beijing(2026, 3, 3, 0)) == 540
    assert LUNCH_BREAK.business_minutes_between(beijing(2026, 3, 2, 0), beijing(2026, 3, 3, 0)) == 450
    with pytest.raises(CalendarUnknown, match="2027"):
        CALENDAR.add_working_days(beijing(2026, 12, 28, 10), 5)


def test_working_hours_may_break_for_lunch() -> None:
    assert LUNCH_BREAK.add_business_minutes(beijing(2026, 3, 2, 11), 90) == beijing(2026, 3, 2, 14)
    assert LUNCH_BREAK.add_business_minutes(beijing(2026, 3, 2, 11), 60) == beijing(2026, 3, 2, 12)
    assert LUNCH_BREAK.business_minutes_between(beijing(2026, 3, 2, 12, 10), beijing(2026, 3, 2, 13, 40)) == 10
    assert LUNCH_BREAK.add_business_minutes(beijing(2026, 3, 2, 17), 60 + 1) == beijing(2026, 3, 3, 9, 1)


@pytest.mark.parametrize(
    "hours",
    [
        [],
        [Span(time(10), time(9))],
        [Span(time(9), time(12)), Span(time(11), time(14))],
        [Span(time(9, 0, 30), time(10))],
    ],
)
def test_working_hours_must_be_whole_minute_spans_that_do_not_overlap(hours: list[Span]) -> None:
    with pytest.raises(ValueError, match=r"span|hours"):
        WorkingCalendar(hours=hours)


def test_the_clock_refuses_naive_instants_and_negative_minutes() -> None:
    with pytest.raises(ValueError, match="aware"):
        CALENDAR.add_business_minutes(datetime(2026, 3, 2, 10), 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_business_minutes(beijing(2026, 3, 2, 10), -1)
    assert CALENDAR.business_minutes_between(beijing(2026, 3, 2, 10), beijing(2026, 3, 2, 9)) == 0


def wall(year: int, month: int, day: int) -> datetime:
    """A bound for Hypothesis, which wants naive wall times and adds the zone itself."""
    return datetime(year, month, day, tzinfo=UTC).replace(tzinfo=None)


def naive_add(calendar: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    """The obvious definition, minute by minute from a whole-minute start: what the fast clock must agree with."""
    instant = start
    while minutes > 0:
        local = instant.astimezone(BEIJING)
        if calendar.is_working_day(local.date()) and any(
            span.start <= local.time() < span.end for span in calendar.hours
        ):
            minutes -= 1
        instant += timedelta(minutes=1)
    return instant.astimezone(UTC)


WHOLE_MINUTES_2026 = st.datetimes(
    min_value=wall(2026, 1, 1), max_value=wall(2026, 11, 30), timezones=st.just(BEIJING)
).map(lambda instant: instant.replace(second=0, microsecond=0))


@settings(max_examples=60, deadline=None)
@given(start=WHOLE_MINUTES_2026, minutes=st.integers(min_value=0, max_value=2000))
def test_the_fast_clock_agrees_with_counting_minute_by_minute(start: datetime, minutes: int) -> None:
    for calendar in (CALENDAR, LUNCH_BREAK):
        assert calendar.add_business_minutes(start, minutes) == naive_add(calendar, start, minutes)


INSTANTS_2026 = st.datetimes(min_value=wall(2026, 1, 1), max_value=wall(2026, 11, 30), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=wall(2026, 1, 1), max_value=wall(2026, 7, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=40_000),  # up to 74 working days: stays inside 2026
)
def test_adding_then_measuring_round_trips(start: datetime, minutes: int) -> None:
    for calendar in (CALENDAR, LUNCH_BREAK):
        due = calendar.add_business_minutes(start, minutes)
        assert due >= start
        assert calendar.business_minutes_between(start, due) == minutes
        # the due time is the earliest such instant: a microsecond before, the minutes are not yet all there
        if minutes:
            assert calendar.business_minutes_between(start, due - timedelta(microseconds=1)) == minutes - 1


@settings(max_examples=300, deadline=None)
@given(start=INSTANTS_2026, end=INSTANTS_2026)
def test_measuring_then_adding_lands_at_or_before_the_end(start: datetime, end: datetime) -> None:
    for calendar in (CALENDAR, LUNCH_BREAK):
        minutes = calendar.business_minutes_between(start, end)
        assert minutes >= 0
        if end > start:
            assert calendar.add_business_minutes(start, minutes) <= end
            assert calendar.add_business_minutes(start, minutes + 1) > end


def test_an_unknown_year_is_answered_as_a_409_problem_naming_the_year() -> None:
    @litestar.get("/deadline", sync_to_thread=False)
    def deadline() -> str:
        CALENDAR.add_business_minutes(beijing(2026, 12, 31, 17), 120)
        return "never"

    with create_test_client([deadline], exception_handlers=EXCEPTION_HANDLERS) as client:
        answer = client.get("/deadline")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:opscenter:problem:calendar-unknown"
    assert "2027" in answer.json()["detail"]
