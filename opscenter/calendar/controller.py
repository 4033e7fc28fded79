"""The business calendar: every role reads it; the platform admin enters overrides (years the package does not
know, corrections)."""

import re
from datetime import date
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from opscenter.auth.guards import EVERYONE, allow
from opscenter.calendar import service
from opscenter.calendar.models import CalendarDays, OverrideIn, OverridePublic
from opscenter.clock import Period, today
from opscenter.errors import InvalidInput
from opscenter.openapi import ALSO_ANSWERS
from opscenter.organizations.models import Role
from opscenter.pagination import CursorPage
from opscenter.schemas import EARLIEST, LATEST
from opscenter.web import (
    IF_MATCH_PATTERN,
    CurrentActor,
    DbSession,
    ExpectedVersion,
    Paging,
    delete,
    get,
    provide_expected_version,
    put,
    with_etag,
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
        description='The ETag of the day\'s override as last read, e.g. "3"; omit when the day has none yet',
    ),
]


def _answer(override: object, status_code: int = 200) -> Response[OverridePublic]:
    public = OverridePublic.model_validate(override)
    response = with_etag(public, status_code=status_code)
    if status_code == 201:
        response.headers["Location"] = f"/api/v1/calendar/overrides/{public.day.isoformat()}"
    return response


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["calendar"]
    guards = [allow(*EVERYONE)]

    @get(
        "/",
        description="Each day from `from` to `to` (both included, at most "
        f"{service.MAX_SPAN_DAYS}): whether it is a working day, what decided it (`override` by the admin, "
        "`package`: the State Council's schedule, else the week), the holiday's name and the working hours. "
        "A day of a year with neither schedule nor override has `is_working` null, source `unknown`, and its "
        "year is in `unknown_years`: business-hour deadlines needing it are refused (409 `calendar-unknown`).",
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
        return _answer(override, status_code=201 if created else 200)

    @delete(
        "/overrides/{day:date}",
        guards=[allow(Role.ADMIN)],
        description="The day follows the State Council's schedule and the week again. Needs If-Match. Audited.",
    )
    def remove_override(
        self, session: DbSession, actor: CurrentActor, day: FromPath[date], expected_version: ExpectedVersion
    ) -> None:
        service.remove_override(session, day, actor=actor, expected_version=expected_version)
