"""The business calendar: every role reads it; the platform admin enters overrides (years the package does not
know, corrections)."""

import re
from datetime import date
from typing import Annotated

from litestar import Controller, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter, QueryParameter, RawBody

from opscenter.calendar import service, years
from opscenter.calendar.models import (
    CalendarDays,
    CalendarHours,
    CalendarYearPublic,
    OverrideIn,
    OverridePublic,
    WorkingHoursIn,
    WorkingHoursPublic,
)
from opscenter.errors import InvalidInput
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.identity.models import Role
from opscenter.openapi import ALSO_ANSWERS
from opscenter.pagination import CursorPage
from opscenter.schemas import EARLIEST, LATEST
from opscenter.timekeeping import Period, today
from opscenter.web import (
    IF_MATCH_PATTERN,
    DbSession,
    ExpectedVersion,
    Paging,
    UploadLimits,
    delete,
    get,
    provide_expected_version,
    put,
    respond,
)

# Plain text parsed here, so that a refusal names `from`/`to` as the caller wrote them (not the Python names).
From = Annotated[
    str | None,
    QueryParameter(
        name="from",
        format="date",
        description="The first day, YYYY-MM-DD (Asia/Shanghai); default: the first of this month",
    ),
]
To = Annotated[
    str | None,
    QueryParameter(
        name="to",
        format="date",
        description=f"The last day, included; at most {service.MAX_SPAN_DAYS} days from `from`; default: the last "
        "day of `from`'s month",
    ),
]
SinceDay = Annotated[str | None, QueryParameter(name="from", format="date", description="Overrides from this day on")]
UntilDay = Annotated[str | None, QueryParameter(name="to", format="date", description="Overrides up to this day")]
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)


def _day(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        if _ISO_DATE.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, "must be a date written YYYY-MM-DD, e.g. 2026-02-14", parameter=True) from None


OptionalIfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        pattern=IF_MATCH_PATTERN,
        description='The ETag as last read, e.g. "3"; omit when there is none yet (no override of the day, '
        "the default hours)",
    ),
]


ScheduleType = Annotated[
    str,
    HeaderParameter(
        name="Content-Type",
        pattern=r"^(application/json|text/csv)( *;.*)?$",
        description="application/json (the schedule as CalendarYearIn) or text/csv (columns date, type, name)",
    ),
]
Year = Annotated[int, Parameter(ge=years.FIRST_YEAR, le=years.LAST_YEAR, description="The calendar year, e.g. 2027")]
YEAR_BODY_BYTES = 256 * 1024  # a year's notice is some 40 rows; a quarter MiB holds every day of a year many times


def _answer(override: object, *, created: bool = False) -> Response[OverridePublic]:
    public = OverridePublic.model_validate(override)
    return respond(public, created=f"/api/v1/calendar/overrides/{public.day.isoformat()}" if created else None)


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["calendar"]
    guards = [allow(*EVERYONE)]

    @get(
        "/",
        description="Each day from `from` to `to` (both included, at most "
        f"{service.MAX_SPAN_DAYS}): whether it is a working day, what decided it (`override` by the admin, "
        "`package`: the State Council's schedule, else `weekday` or `weekend`), the holiday's name and the "
        "working hours. Days before 1970-01-01 or after 2999-12-31 are read as those edges. A day of a year "
        "with neither schedule nor override has `is_working` null, source `unknown`, and its year is in "
        "`unknown_years`: business-hour deadlines needing it are refused (409 `calendar-unknown`).",
    )
    def days(self, session: DbSession, start: From = None, end: To = None) -> CalendarDays:
        first = _day("from", start) or Period.of(today()).first_day
        last = _day("to", end) or Period.of(min(max(first, EARLIEST), LATEST)).last_day
        return service.list_days(session, start=first, end=last)

    @get("/overrides", description="The admin's overrides in day order, optionally from `from` to `to`.")
    def overrides(
        self,
        session: DbSession,
        page: Paging,
        start: SinceDay = None,
        end: UntilDay = None,
    ) -> CursorPage[OverridePublic]:
        rows = service.list_overrides(session, page=page, start=_day("from", start), end=_day("to", end))
        return rows.page_of([OverridePublic.model_validate(row) for row in rows])

    @get("/overrides/{day:date}", description="A day's override, with its ETag for replacing or removing it.")
    def read_override(self, session: DbSession, day: FromPath[date]) -> Response[OverridePublic]:
        return _answer(service.get_override(session, day))

    @put(
        "/overrides/{day:date}",
        guards=[allow(Role.ADMIN)],
        opt={ALSO_ANSWERS: (412,)},
        responses={201: ResponseSpec(data_container=OverridePublic, description="A new override, with its ETag")},
        description="Whether this Asia/Shanghai date is a working day, above the State Council's schedule and "
        "the week: 201 for a new override, 200 for a replaced one. Replacing needs If-Match with the "
        "override's ETag (409 without, 412 when stale); a new one takes none. Entering at least one day of a "
        "year makes the year known: its other days follow the week (Monday to Friday on). Audited.",
    )
    def set_override(
        self,
        session: DbSession,
        actor: CurrentActor,
        day: FromPath[date],
        data: JSONBody[OverrideIn],
        if_match: OptionalIfMatch = None,
    ) -> Response[OverridePublic]:
        expected = None if if_match is None else provide_expected_version(if_match)
        override, created = service.set_override(session, day, data, actor=actor, expected_version=expected)
        return _answer(override, created=created)

    @delete(
        "/overrides/{day:date}",
        guards=[allow(Role.ADMIN)],
        description="The day follows the State Council's schedule and the week again. Needs If-Match. Audited.",
    )
    def remove_override(
        self, session: DbSession, actor: CurrentActor, day: FromPath[date], expected_version: ExpectedVersion
    ) -> None:
        service.remove_override(session, day, actor=actor, expected_version=expected_version)

    @get(
        "/years/{year:int}",
        description="A year's holidays and make-up workdays as the calendar holds them: imported (`override`), the "
        "`chinese-calendar` package's (`package`), or `unknown`; the same shape an import takes, so a year read "
        "here and sent back to `PUT` is imported as it was.",
    )
    def year(self, session: DbSession, year: Year) -> CalendarYearPublic:
        return years.read_year(session, year)

    @put(
        "/years/{year:int}",
        guards=[allow(Role.ADMIN)],
        status_code=200,
        opt={ALSO_ANSWERS: (413, 422)},
        request_max_body_size=YEAR_BODY_BYTES,
        description="Import a whole year's official schedule (the State Council's notice) in one request, in place "
        "of whatever the year had: JSON (`Content-Type: application/json`, the schema CalendarYearIn: `holidays` "
        "and `workdays`, each `[{day, name}]`, and an optional `notice`) or CSV (`text/csv`, UTF-8 or GB18030: "
        "columns `date`/日期, `type`/类型 (`holiday`/休 or `workday`/班) and `name`/名称). Checked as a whole, "
        "each problem named (422): every day in the year, none listed twice or both off and on, make-up workdays "
        "on a Saturday or Sunday, holidays named, 01-01, 05-01 and 10-01 to 10-03 off, at least 11 days off. "
        "Every other day follows the week (also against the package's data for that year). One audit event "
        "(`calendar_year.import`); importing again replaces the year.",
    )
    def import_year(
        self,
        session: DbSession,
        actor: CurrentActor,
        year: Year,
        body: RawBody,
        content_type: ScheduleType,
        limits: UploadLimits,
    ) -> CalendarYearPublic:
        years.check_year(year)
        media_type = content_type.split(";", 1)[0].strip().lower()
        return years.import_year(session, year, years.parse(body, media_type, limits=limits), actor=actor)

    @get("/hours", description="The working hours of every working day; 09:00–18:00 until the admin sets others.")
    def hours(self, session: DbSession) -> Response[WorkingHoursPublic]:
        return _hours_answer(service.working_hours(session))

    @put(
        "/hours",
        guards=[allow(Role.ADMIN)],
        opt={ALSO_ANSWERS: (412,)},
        responses={201: ResponseSpec(data_container=WorkingHoursPublic, description="The first hours the admin set")},
        description="Replace the working hours (one to six spans, in order, not overlapping; 422 naming "
        "`spans.N.start` otherwise). The first setting takes no If-Match (201); later ones need the ETag (409 "
        "without, 412 when stale). Due times already computed stay; business deadlines computed from now on use "
        "the new hours. Audited.",
    )
    def set_hours(
        self, session: DbSession, actor: CurrentActor, data: JSONBody[WorkingHoursIn], if_match: OptionalIfMatch = None
    ) -> Response[WorkingHoursPublic]:
        expected = None if if_match is None else provide_expected_version(if_match)
        hours, created = service.set_working_hours(session, data, actor=actor, expected_version=expected)
        return _hours_answer(hours, created=created)


def _hours_answer(hours: CalendarHours | None, *, created: bool = False) -> Response[WorkingHoursPublic]:
    return respond(service.hours_public(hours), created="/api/v1/calendar/hours" if created else None)
