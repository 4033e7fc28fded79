"""A whole year's official schedule at once: the State Council's notice (holidays, make-up workdays) imported as
JSON or CSV, checked as a whole, and written as that year's overrides in place of any it had, with one audit event.
Importing again replaces the year, so a wrong import is undone by importing the right one.

The schedule decides the year alone: a day the ``chinese-calendar`` package lists for that year but the import does
not is overridden to follow the week, so what was imported is exactly what the clock uses.
"""

import codecs
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, delete, select

from opscenter.audit import service as audit
from opscenter.calendar.models import CalendarOverride, CalendarYearIn, CalendarYearPublic, DaySource, ScheduledDay
from opscenter.calendar.service import working_calendar
from opscenter.calendar.working_time import official_calendar
from opscenter.errors import ErrorList, FieldError, InvalidInput, InvalidRows
from opscenter.identity.actor import Actor
from opscenter.sheets import Limits, UnreadableFile, read_table

FIRST_YEAR, LAST_YEAR = 1970, 2999
# Days every year's schedule names as holidays (元旦, 劳动节, 国庆节 fall on fixed dates): a file without them is
# not a whole year's notice but a part of one.
FIXED_HOLIDAYS = (((1, 1), "元旦"), ((5, 1), "劳动节"), ((10, 1), "国庆节"), ((10, 2), "国庆节"), ((10, 3), "国庆节"))
MIN_HOLIDAYS = 11  # days off the law gives every year (13 since 2025); a notice lists more, with the weekends
AS_THE_WEEK = "按周（年度安排未列）"  # an override that cancels a package day the imported schedule does not name

CSV_COLUMNS = {"date": "day", "日期": "day", "type": "type", "类型": "type", "name": "name", "名称": "name"}
HOLIDAY_WORDS = {"holiday", "off", "休", "放假", "假日", "节假日"}
WORKDAY_WORDS = {"workday", "on", "班", "上班", "调休", "调休上班"}


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("year", f"must be a year from {FIRST_YEAR} to {LAST_YEAR}", parameter=True)
    return year


@dataclass(frozen=True)
class Parsed:
    """A schedule as sent, and for a CSV the line each entry came from (``holidays.3`` → 7)."""

    schedule: CalendarYearIn
    lines: dict[str, int] = field(default_factory=dict)

    def error(self, where: str, message: str) -> FieldError:
        entry = ".".join(where.split(".")[:2])
        return FieldError(where, message, line=self.lines.get(entry))


def parse(content: bytes, media_type: str, *, limits: Limits) -> Parsed:
    """The request body as a schedule: JSON (``application/json``) or CSV (``text/csv``: columns date, type
    (holiday/workday, or 休/班), name). 422 naming every problem of the body."""
    if not content.strip():
        raise InvalidInput("body", "a request body is required: the year's schedule as JSON or CSV")
    if media_type == "text/csv":
        return _from_csv(content, limits)
    if media_type != "application/json":
        raise InvalidInput("Content-Type", "must be application/json or text/csv", parameter=True)
    try:
        document = json.loads(codecs.decode(content, "utf-8-sig"), object_pairs_hook=_no_repeats)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput("body", f"is not JSON text in UTF-8: {exc}", parameter=True) from None
    return _validated(document, {})


def _validated(document: Any, lines: dict[str, int]) -> Parsed:
    try:
        return Parsed(CalendarYearIn.model_validate(document), lines)
    except ValidationError as exc:
        empty = Parsed(CalendarYearIn(holidays=[]), lines)
        errors = [empty.error(".".join(str(part) for part in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        raise InvalidRows(f"The schedule is not valid: {len(errors)} problem(s).", errors=errors) from None


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the key {repeated[0]!r} appears twice in one object")
    return dict(pairs)


def _from_csv(content: bytes, limits: Limits) -> Parsed:
    problems = ErrorList()
    holidays: list[dict[str, str]] = []
    workdays: list[dict[str, str]] = []
    lines: dict[str, int] = {}
    try:
        table = read_table(content, Limits(rows=400, cell_chars=200, columns=10, seconds=limits.seconds))
        names = [CSV_COLUMNS.get(cell.strip().lower(), "") for cell in table.header]
        missing = [column for column in ("day", "type", "name") if column not in names]
        if missing:
            raise UnreadableFile("the header needs the columns date (日期), type (类型) and name (名称)", line=1)
        for line, cells in table.rows:
            row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names) if name}
            kind = row["type"].lower()
            if kind in HOLIDAY_WORDS:
                lines[f"holidays.{len(holidays)}"] = line
                holidays.append({"day": row["day"], "name": row["name"]})
            elif kind in WORKDAY_WORDS:
                lines[f"workdays.{len(workdays)}"] = line
                workdays.append({"day": row["day"], "name": row["name"]})
            else:
                problems.add(FieldError("type", "must be holiday (休) or workday (班)", line=line, column="type"))
    except UnreadableFile as exc:
        problems.first(FieldError("file", exc.message, line=exc.line))
    if len(problems):
        raise problems.refusal("Nothing was imported")
    return _validated({"holidays": holidays, "workdays": workdays}, lines)


def validate(year: int, parsed: Parsed) -> None:
    """The schedule as a whole: every day in ``year``, none listed twice or both off and on, make-up workdays on
    a Saturday or Sunday, the fixed holidays named and at least ``MIN_HOLIDAYS`` days off. 422 naming each."""
    schedule, errors = parsed.schedule, list[FieldError]()
    seen: dict[date, str] = {}
    for listed, days in (("holidays", schedule.holidays), ("workdays", schedule.workdays)):
        for index, entry in enumerate(days):
            where = f"{listed}.{index}.day"
            if entry.day.year != year:
                errors.append(parsed.error(where, f"{entry.day.isoformat()} is not a day of {year}"))
            elif entry.day in seen:
                errors.append(parsed.error(where, f"{entry.day.isoformat()} is listed already as {seen[entry.day]}"))
            elif listed == "workdays" and entry.day.weekday() < 5:
                weekday = entry.day.strftime("%A")
                message = f"{entry.day} is a {weekday}: a make-up workday is a Saturday or Sunday"
                errors.append(parsed.error(where, message))
            if not entry.name.strip():
                errors.append(parsed.error(f"{listed}.{index}.name", "names the holiday; it may not be blank"))
            seen.setdefault(entry.day, f"{listed}.{index}")
    off = {entry.day for entry in schedule.holidays}
    for (month, day), name in FIXED_HOLIDAYS:
        if date(year, month, day) not in off:
            errors.append(
                FieldError("holidays", f"a whole year's schedule has {year}-{month:02d}-{day:02d} ({name}) off")
            )
    if len(off) < MIN_HOLIDAYS:
        errors.append(FieldError("holidays", f"a whole year has at least {MIN_HOLIDAYS} days off; {len(off)} given"))
    if errors:
        detail = f"Not a whole schedule of {year}: {len(errors)} problem(s); nothing was imported."
        raise InvalidRows(detail, errors=errors)


def import_year(session: Session, year: int, parsed: Parsed, *, actor: Actor) -> CalendarYearPublic:
    """Replace ``year``'s overrides by the schedule (validated whole first); one audit event,
    ``calendar_year.import``, with the year's holidays and workdays before and after."""
    validate(check_year(year), parsed)
    schedule = parsed.schedule
    before = read_year(session, year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    session.exec(delete(CalendarOverride).where(col(CalendarOverride.day) >= first, col(CalendarOverride.day) <= last))
    wanted = {entry.day: (False, entry.name.strip()) for entry in schedule.holidays}
    wanted |= {entry.day: (True, entry.name.strip()) for entry in schedule.workdays}
    for day in official_calendar().days:
        if day.year == year and day not in wanted:
            wanted[day] = (day.weekday() < 5, AS_THE_WEEK)
    session.add_all(
        CalendarOverride(day=day, is_working=working, reason=reason, set_by_id=actor.user_id)
        for day, (working, reason) in sorted(wanted.items())
    )
    session.flush()
    after = read_year(session, year)
    changes: dict[str, list[Any]] = {
        "holidays": [_listed(before.holidays), _listed(after.holidays)],
        "workdays": [_listed(before.workdays), _listed(after.workdays)],
        "notice": [None, schedule.notice],
    }
    audit.append_many(session, actor=actor, action="calendar_year.import", object_type="calendar_year",
                      changes=[(year, changes)])  # fmt: skip
    return after


def _listed(days: Sequence[ScheduledDay]) -> list[str]:
    return [f"{entry.day.isoformat()} {entry.name}" for entry in days]


def read_year(session: Session, year: int) -> CalendarYearPublic:
    """The year's holidays and make-up workdays as the calendar holds them (the overrides, else the package)."""
    check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.exec(
        select(CalendarOverride)
        .where(col(CalendarOverride.day) >= first, col(CalendarOverride.day) <= last)
        .order_by(col(CalendarOverride.day))
    ).all()
    if rows:
        named = [row for row in rows if row.reason != AS_THE_WEEK]
        holidays = [ScheduledDay(day=row.day, name=row.reason) for row in named if not row.is_working]
        workdays = [ScheduledDay(day=row.day, name=row.reason) for row in named if row.is_working]
        return CalendarYearPublic(
            year=year, known=True, source=DaySource.OVERRIDE, holidays=holidays, workdays=workdays
        )
    official = official_calendar()
    if year in official.years:
        days = sorted((day, entry) for day, entry in official.days.items() if day.year == year)
        return CalendarYearPublic(
            year=year,
            known=True,
            source=DaySource.PACKAGE,
            holidays=[ScheduledDay(day=day, name=entry.name) for day, entry in days if not entry.is_working],
            workdays=[ScheduledDay(day=day, name=entry.name) for day, entry in days if entry.is_working],
        )
    return CalendarYearPublic(year=year, known=False, source=DaySource.UNKNOWN, holidays=[], workdays=[])


def year_known(session: Session, year: int) -> bool:
    return working_calendar(session).knows(year)
