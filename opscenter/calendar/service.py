"""The business calendar as records: the admin's overrides and working hours, the calendar of a span of days,
and the clock.

``working_calendar(session)`` is what every domain asks for its business clock. It is cached per
process and rebuilt only when the overrides or the hours change (one small aggregate query per call
tells), so a sweep over every open ticket may call it freely.
"""

import threading
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from opscenter.audit import service as audit
from opscenter.calendar.models import (
    CalendarDay,
    CalendarDays,
    CalendarHours,
    CalendarOverride,
    DaySource,
    HoursPublic,
    OverrideIn,
    WorkingHoursIn,
    WorkingHoursPublic,
    wall_time,
)
from opscenter.calendar.working_time import DEFAULT_HOURS, Span, WorkingCalendar, official_calendar
from opscenter.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    InvalidInputs,
    NotFound,
    PreconditionFailed,
)
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.schemas import EARLIEST, LATEST

MAX_SPAN_DAYS = 366
"""The longest ``from``…``to`` a calendar read may ask for (a leap year), both days included."""

# ---- the clock ---------------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cached: dict[tuple[Any, ...], WorkingCalendar] = {}
_CACHE_SIZE = 4  # a process talks to one database; tests and benchmarks to a few


def working_calendar(session: Session) -> WorkingCalendar:
    """The business calendar as the database now says: the package's schedule under the overrides, and the
    working hours (09:00–18:00 unless the admin set others).

    Cached per process, keyed on the overrides' count, versions and latest change and the hours' version, so
    repeated calls (a sweep over every ticket) cost one aggregate query; a change is seen by the next call, also
    in other processes. Its answers raise ``CalendarUnknown`` for years with neither package data nor override.
    """
    fingerprint = session.execute(_FINGERPRINT).one()
    key = (str(session.get_bind().engine.url), *fingerprint)
    with _cache_lock:
        calendar = _cached.get(key)
    if calendar is not None:
        return calendar
    rows = session.exec(select(col(CalendarOverride.day), col(CalendarOverride.is_working))).all()
    calendar = WorkingCalendar(dict(rows), hours=_spans(working_hours(session)))
    with _cache_lock:
        if len(_cached) >= _CACHE_SIZE:
            _cached.pop(next(iter(_cached)))
        _cached[key] = calendar
    return calendar


# ---- working hours -----------------------------------------------------------------------------------------------

HOURS_SCOPE = "default"

# What the cached calendar is keyed on. Every create and delete changes the count, every update the sum of versions
# (also when the writer's clock lags another server's, which could leave max(updated_at) as it was). Built once:
# every ticket opened and every clock step asks it, and building it cost as much as running it.
_FINGERPRINT = sa_select(
    func.count(col(CalendarOverride.id)),
    func.sum(col(CalendarOverride.version)),
    func.max(col(CalendarOverride.updated_at)),
    sa_select(col(CalendarHours.version)).where(col(CalendarHours.scope) == HOURS_SCOPE).scalar_subquery(),
)


def working_hours(session: Session, *, for_update: bool = False) -> CalendarHours | None:
    """The admin's working hours; None while the default (09:00–18:00) holds."""
    query = select(CalendarHours).where(CalendarHours.scope == HOURS_SCOPE)
    return session.exec(query.with_for_update() if for_update else query).first()


def _spans(hours: CalendarHours | None) -> tuple[Span, ...]:
    if hours is None:
        return DEFAULT_HOURS
    return tuple(Span(wall_time(start), wall_time(end)) for start, end in hours.spans)


def hours_public(hours: CalendarHours | None) -> WorkingHoursPublic:
    return WorkingHoursPublic(
        spans=[HoursPublic.of(span) for span in _spans(hours)],
        is_default=hours is None,
        version=None if hours is None else hours.version,
        set_by_id=None if hours is None else hours.set_by_id,
        updated_at=None if hours is None else hours.updated_at,
    )


def set_working_hours(
    session: Session, data: WorkingHoursIn, *, actor: Actor, expected_version: int | None
) -> tuple[CalendarHours, bool]:
    """Replace the working hours of every working day; (the row, whether it is the first the admin set).

    Spans in order and not overlapping, else 422 naming ``spans.N.start``. As with overrides: the first time
    takes no If-Match, later ones need the version (409 without, 412 when stale). Due times already computed
    stay as they are; what is computed from now on uses the new hours. Audited as ``calendar_hours.set``.
    """
    spans = [(item.start, item.end) for item in data.spans]
    errors = [
        FieldError(f"spans.{index}.end", "must be after its start")
        for index, (start, end) in enumerate(spans)
        if wall_time(end) <= wall_time(start)
    ]
    errors += [
        FieldError(f"spans.{index}.start", "must not be before the end of the span before it")
        for index in range(1, len(spans))
        if wall_time(spans[index][0]) < wall_time(spans[index - 1][1])
    ]
    if errors:
        raise InvalidInputs("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    hours = working_hours(session, for_update=True)
    if hours is None:
        if expected_version is not None:
            raise PreconditionFailed("The default working hours hold; send the request without If-Match.")
        hours = CalendarHours(spans=[list(span) for span in spans], set_by_id=actor.user_id)
        session.add(hours)
        session.flush()  # a racing first setting fails here: 409
        audit.record_create(session, actor=actor, action="calendar_hours.set", row=hours)
        session.flush()
        return hours, True
    if expected_version is None:
        raise Conflict(
            f'Working hours are set (version {hours.version}): replace them with If-Match: "{hours.version}".',
            errors=[FieldError("If-Match", "required to replace the working hours")],
        )
    hours.require_version(expected_version)
    with audit.change(session, actor=actor, action="calendar_hours.set", row=hours):
        hours.spans, hours.set_by_id = [list(span) for span in spans], actor.user_id
    session.flush()
    return hours, False


# ---- overrides ---------------------------------------------------------------------------------------------------


class DayOutsideCalendar(NotFound):
    """A day in a path beyond the days the calendar holds: there is no such calendar day (404)."""

    def __init__(self, day: date) -> None:
        DomainError.__init__(
            self, f"The calendar holds the days {EARLIEST.isoformat()} to {LATEST.isoformat()}; not {day.isoformat()}."
        )


def check_day(day: date) -> date:
    """A day the calendar holds (1970-01-01…2999-12-31); ``DayOutsideCalendar`` (404) otherwise."""
    if not EARLIEST <= day <= LATEST:
        raise DayOutsideCalendar(day)
    return day


def get_override(session: Session, day: date, *, for_update: bool = False) -> CalendarOverride:
    query = select(CalendarOverride).where(CalendarOverride.day == check_day(day))
    override = session.exec(query.with_for_update() if for_update else query).first()
    if override is None:
        raise NotFound("calendar override for this day")
    return override


def list_overrides(
    session: Session, *, page: PageRequest, start: date | None = None, end: date | None = None
) -> Slice[CalendarOverride]:
    """The overrides in day order, optionally from ``start`` to ``end`` (both included)."""
    query = select(CalendarOverride).order_by(col(CalendarOverride.day))
    if start is not None:
        query = query.where(CalendarOverride.day >= start)
    if end is not None:
        query = query.where(CalendarOverride.day <= end)
    return keyset(session, query, page)


def set_override(
    session: Session, day: date, data: OverrideIn, *, actor: Actor, expected_version: int | None
) -> tuple[CalendarOverride, bool]:
    """Say whether ``day`` is a working day, above the package and the week; (the override, whether it is new).

    Replacing an existing override needs its version (409 without: the PUT would create, and the day is
    taken; 412 when stale); a version given for a day without override is stale too (412). Audited as
    ``calendar_override.create`` or ``calendar_override.update``.
    """
    existing = session.exec(
        select(CalendarOverride).where(CalendarOverride.day == check_day(day)).with_for_update()
    ).first()
    if existing is None:
        if expected_version is not None:
            raise PreconditionFailed("This day has no override (any more); send the request without If-Match.")
        override = CalendarOverride(day=day, is_working=data.is_working, reason=data.reason, set_by_id=actor.user_id)
        session.add(override)
        session.flush()  # a racing creation of the same day fails here: 409 naming `day`
        audit.record_create(session, actor=actor, action="calendar_override.create", row=override)
        session.flush()
        return override, True
    if expected_version is None:
        # 409, not 428: without If-Match this PUT means "create", and the day is taken.
        raise Conflict(
            f"{day.isoformat()} already has an override (version {existing.version}): replace it with If-Match: "
            f'"{existing.version}", or remove it first.',
            errors=[FieldError("If-Match", "required to replace an existing override")],
        )
    existing.require_version(expected_version)
    with audit.change(session, actor=actor, action="calendar_override.update", row=existing):
        existing.is_working, existing.reason, existing.set_by_id = data.is_working, data.reason, actor.user_id
    session.flush()
    return existing, False


def remove_override(session: Session, day: date, *, actor: Actor, expected_version: int) -> None:
    """Remove ``day``'s override: the package's schedule and the week decide again. Audited."""
    override = get_override(session, day, for_update=True)
    override.require_version(expected_version)
    audit.record_delete(session, actor=actor, action="calendar_override.delete", row=override)
    session.delete(override)
    session.flush()


# ---- the calendar of a span of days ---------------------------------------------------------------------------


def clamp_span(start: date, end: date) -> tuple[date, date]:
    """``from``…``to`` as a calendar read takes it: each clamped to the days the calendar holds (a range means
    that anyway), ``to`` not before ``from`` and at most ``MAX_SPAN_DAYS`` days in all; 400 naming ``to`` otherwise."""
    start, end = min(max(start, EARLIEST), LATEST), min(max(end, EARLIEST), LATEST)
    if end < start:
        raise InvalidInput("to", "must not be before `from`", parameter=True)
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise InvalidInput("to", f"must be at most {MAX_SPAN_DAYS} days from `from`, both included", parameter=True)
    return start, end


def list_days(session: Session, *, start: date, end: date) -> CalendarDays:
    """Every date from ``start`` to ``end`` (both included; see ``clamp_span``) as the calendar says.

    A day of a year with neither package data nor override is listed with ``is_working`` null and source
    ``unknown`` (and its year in ``unknown_years``): listing the unknown is how an admin sees what to enter.
    """
    start, end = clamp_span(start, end)
    calendar = working_calendar(session)
    reasons: dict[date, str] = dict(
        session.exec(
            select(col(CalendarOverride.day), col(CalendarOverride.reason)).where(
                CalendarOverride.day >= start, CalendarOverride.day <= end
            )
        ).all()
    )
    official = official_calendar()
    hours = [HoursPublic.of(span) for span in calendar.hours]
    days: list[CalendarDay] = []
    unknown: list[int] = []
    day = start
    while day <= end:  # at most MAX_SPAN_DAYS
        if not calendar.knows(day.year):
            unknown += [] if day.year in unknown else [day.year]
            days.append(
                CalendarDay(day=day, is_working=None, source=DaySource.UNKNOWN, name=None, reason=None, hours=[])
            )
        else:
            working = calendar.is_working_day(day)
            package = official.days.get(day)
            if day in reasons:
                source = DaySource.OVERRIDE
            elif package is not None:
                source = DaySource.PACKAGE
            else:
                source = DaySource.WEEKEND if day.weekday() >= 5 else DaySource.WEEKDAY
            days.append(
                CalendarDay(
                    day=day,
                    is_working=working,
                    source=source,
                    name=package.name if package is not None else None,
                    reason=reasons.get(day),
                    hours=hours if working else [],
                )
            )
        day += timedelta(days=1)
    return CalendarDays(items=days, unknown_years=unknown)
