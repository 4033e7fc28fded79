import uuid
from datetime import date, time
from typing import ClassVar

from sqlmodel import Field, SQLModel

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


class HoursPublic(SQLModel):
    """A span of working hours, Asia/Shanghai wall time."""

    start: time
    end: time


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
            "hours": [{"start": "09:00:00", "end": "18:00:00"}],
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
