"""The business calendar over HTTP, step by step: reading days, entering and removing overrides."""

from typing import Any

from tests.conftest import ApiFactory
from tests.contracts.steps import JSON, ok
from tests.factories import World


def days(api: ApiFactory, who: Any, start: str, end: str) -> JSON:
    return ok(api.as_(who).get("/api/v1/calendar", params={"from": start, "to": end}))


def day_of(calendar: JSON, day: str) -> JSON:
    found: JSON = next(item for item in calendar["items"] if item["day"] == day)
    return found


def enter(api: ApiFactory, world: World, day: str, *, working: bool, reason: str) -> JSON:
    """The admin enters an override for a day that has none."""
    body = {"is_working": working, "reason": reason}
    return ok(api.as_(world.admin).put(f"/api/v1/calendar/overrides/{day}", body), 201)


def enter_2027_new_year(api: ApiFactory, world: World) -> JSON:
    """2027's New Year's Day (a Friday) off: the first day of the 2027 schedule, as an admin would enter it."""
    return enter(api, world, "2027-01-01", working=False, reason="2027年元旦")


def _span(first: str, last: str, name: str) -> list[JSON]:
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [{"day": (start + timedelta(days=n)).isoformat(), "name": name} for n in range((end - start).days + 1)]


def schedule_2027() -> JSON:
    """A whole year's notice as the State Council words it (holidays with the weekends in them, 调休 weekends)."""
    return {
        "notice": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [
            *_span("2027-01-01", "2027-01-03", "元旦"),
            *_span("2027-02-05", "2027-02-13", "春节"),
            *_span("2027-04-03", "2027-04-05", "清明节"),
            *_span("2027-05-01", "2027-05-05", "劳动节"),
            *_span("2027-06-09", "2027-06-09", "端午节"),
            *_span("2027-09-15", "2027-09-15", "中秋节"),
            *_span("2027-10-01", "2027-10-07", "国庆节"),
        ],
        "workdays": [
            {"day": "2027-01-31", "name": "春节调休"},
            {"day": "2027-02-20", "name": "春节调休"},
            {"day": "2027-04-25", "name": "劳动节调休"},
            {"day": "2027-05-08", "name": "劳动节调休"},
            {"day": "2027-09-26", "name": "国庆节调休"},
            {"day": "2027-10-09", "name": "国庆节调休"},
        ],
    }


def as_csv(schedule: JSON, *, encoding: str = "utf-8") -> bytes:
    """The schedule as a spreadsheet would save it: Chinese headers, 休 and 班."""
    rows = ["日期,类型,名称"]
    rows += [f"{entry['day']},休,{entry['name']}" for entry in schedule["holidays"]]
    rows += [f"{entry['day']},班,{entry['name']}" for entry in schedule["workdays"]]
    return ("\r\n".join(rows) + "\r\n").encode(encoding)
