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
