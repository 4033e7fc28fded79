import re
import uuid
from datetime import date, datetime, time
from typing import ClassVar

from pydantic import field_validator
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from opscenter.calendar.working_time import Span
from opscenter.db import Identified, Timestamped, Versioned
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of, schema_config

# ---- overrides: what an admin says of a day, above the package's schedule and the week ------------------------


class OverrideContent(SQLModel):
    is_working: bool = Field(description="true: a working day (e.g. 调休上班); false: a day off (e.g. 春节)")
    reason: str = Field(
        min_length=1,
        max_length=200,
        description="Why, as people read it: the holiday or the notice it comes from, e.g. 2027年春节",
    )


class OverrideIn(OverrideContent, StrictInput):
    """Whether one Asia/Shanghai date is a working day, and why. The date is the path's."""

    model_config = schema_config(extra="forbid", example={"is_working": False, "reason": "2027年春节"})


class CalendarOverride(Identified, Timestamped, Versioned, table=True):
    __tablename__ = "calendar_override"

    day: date = Field(unique=True)
    is_working: bool
    reason: str = Field(max_length=200)
    set_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class OverridePublic(OverrideContent, PublicRecord):
    """An override as everyone reads it; its version is the ETag for replacing or removing it."""

    model_config = schema_config(
        example={
            "id": "01937a55-2b9e-7c41-8f0d-3a6b5c4d2e1f",
            "day": "2027-02-06",
            "is_working": False,
            "reason": "2027年春节",
            "set_by_id": "01936f0c-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
            "version": 1,
            "created_at": "2026-11-20T02:00:00Z",
            "updated_at": "2026-11-20T02:00:00Z",
        }
    )

    day: date
    set_by_id: uuid.UUID | None


# ---- the days of the calendar as everyone reads them -----------------------------------------------------------


class DaySource(LabeledEnum):
    """What decided whether a day is worked."""

    OVERRIDE = "override", "管理员设定"
    PACKAGE = "package", "国务院节假日安排"
    WEEKEND = "weekend", "周末"
    WEEKDAY = "weekday", "工作日"
    UNKNOWN = "unknown", "未知年份"


WALL_TIME_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
_WALL_TIME = {"pattern": WALL_TIME_PATTERN, "examples": ["09:00"]}


def wall_time(text: str) -> time:
    """``HH:MM`` (already matched against ``WALL_TIME_PATTERN``) as a time; 24:00 is the end of the day."""
    return time.max if text == "24:00" else time.fromisoformat(text)


class HoursPublic(SQLModel):
    """A span of working hours, Asia/Shanghai wall time written HH:MM (an end of 24:00 is midnight)."""

    start: str = Field(schema_extra={"json_schema_extra": _WALL_TIME})
    end: str = Field(schema_extra={"json_schema_extra": _WALL_TIME})

    @classmethod
    def of(cls, span: Span) -> "HoursPublic":
        end = "24:00" if span.end == time.max else span.end.strftime("%H:%M")
        return cls(start=span.start.strftime("%H:%M"), end=end)


# ---- working hours: the spans of every working day ------------------------------------------------------------


class HoursSpanIn(StrictInput):
    """One span of a working day, HH:MM to HH:MM, Asia/Shanghai wall time."""

    model_config = schema_config(extra="forbid")

    start: str = Field(min_length=5, max_length=5, schema_extra={"json_schema_extra": _WALL_TIME})
    end: str = Field(min_length=5, max_length=5, schema_extra={"json_schema_extra": _WALL_TIME})

    @field_validator("start", "end")
    @classmethod
    def _wall_time(cls, text: str) -> str:
        if re.fullmatch(WALL_TIME_PATTERN, text) is None:
            raise ValueError("must be a wall time written HH:MM, 00:00 to 24:00")
        return text


class WorkingHoursIn(StrictInput):
    """The working hours of every working day: one to six spans, in order, not overlapping."""

    model_config = schema_config(
        extra="forbid",
        example={"spans": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]},
    )

    spans: list[HoursSpanIn] = Field(min_length=1, max_length=6)


class CalendarHours(Identified, Timestamped, Versioned, table=True):
    """The calendar's working hours: at most one row; without it, the default 09:00–18:00."""

    __tablename__ = "calendar_hours"

    scope: str = Field(default="default", max_length=16, unique=True)  # one row per calendar; there is one
    spans: list[list[str]] = Field(sa_type=JSON)  # [["09:00", "12:00"], ["13:30", "18:00"]]
    set_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class WorkingHoursPublic(SQLModel):
    """The working hours in force. ``version`` is null (and no ETag is sent) while the default holds."""

    model_config = schema_config(
        example={
            "spans": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
            "is_default": False,
            "version": 2,
            "set_by_id": "01936f0c-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
            "updated_at": "2026-11-20T02:00:00Z",
        }
    )

    spans: list[HoursPublic]
    is_default: bool
    version: int | None
    set_by_id: uuid.UUID | None
    updated_at: datetime | None


class CalendarDay(SQLModel):
    """One Asia/Shanghai date of the business calendar."""

    model_config = schema_config(
        example={
            "day": "2026-02-14",
            "is_working": True,
            "source": "package",
            "source_label": "国务院节假日安排",
            "name": "春节",
            "reason": None,
            "hours": [{"start": "09:00", "end": "18:00"}],
        }
    )

    day: date
    is_working: bool | None = Field(description="null when the year is unknown (neither package data nor overrides)")
    source: DaySource
    source_label: ClassVar[str] = label_of("source")
    name: str | None = Field(description="The holiday (春节); for a 调休 working day, the holiday it serves")
    reason: str | None = Field(description="An override's reason")
    hours: list[HoursPublic] = Field(description="The working-hour spans of a working day; empty on a day off")


class CalendarDays(SQLModel):
    """The days from ``from`` to ``to``, both included, in order."""

    items: list[CalendarDay]
    unknown_years: list[int] = Field(description="Years in the range with neither package data nor overrides")


# ---- a whole year's official schedule, imported at once -------------------------------------------------------


class ScheduledDay(StrictInput):
    """A day the State Council's notice names: a holiday (off) or a make-up workday (调休, on)."""

    model_config = schema_config(extra="forbid")

    day: date = Field(description="YYYY-MM-DD, a day of the year in the path")
    name: str = Field(
        min_length=1,
        max_length=100,
        description="The holiday, e.g. 春节; for a make-up workday, the holiday it serves (e.g. 春节调休)",
    )


class CalendarYearIn(StrictInput):
    """A whole year's official schedule (the State Council's notice, published each November): every holiday
    and every make-up workday; every other day follows the week."""

    model_config = schema_config(
        extra="forbid",
        example={
            "notice": "国务院办公厅关于2027年部分节假日安排的通知",
            "holidays": [{"day": "2027-01-01", "name": "元旦"}, {"day": "2027-02-06", "name": "春节"}],
            "workdays": [{"day": "2027-02-14", "name": "春节调休"}],
        },
    )

    notice: str = Field(default="", max_length=200, description="The notice the schedule comes from")
    holidays: list[ScheduledDay] = Field(max_length=366, description="Days off (放假), weekends in them included")
    workdays: list[ScheduledDay] = Field(
        default_factory=list, max_length=366, description="Make-up workdays (调休上班): Saturdays or Sundays"
    )


class CalendarYearPublic(SQLModel):
    """A year's schedule as the calendar now holds it: what an import wrote (source ``override``), the
    ``chinese-calendar`` package's (``package``), or nothing (``unknown``)."""

    model_config = schema_config(
        example={
            "year": 2027,
            "known": True,
            "source": "override",
            "holidays": [{"day": "2027-01-01", "name": "元旦"}],
            "workdays": [{"day": "2027-02-14", "name": "春节调休"}],
        }
    )

    year: int
    known: bool
    source: DaySource
    source_label: ClassVar[str] = label_of("source")
    holidays: list[ScheduledDay]
    workdays: list[ScheduledDay]
