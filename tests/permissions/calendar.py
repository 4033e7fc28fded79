"""Permission rows: the business calendar (everyone reads it) and its overrides (the platform admin edits them)."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.opscenter.calendar import steps
from tests.permissions.table import ADMIN, EVERYONE, Prepared, Row, only

DAY = "2027-01-01"


def _new_override(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params={"day": DAY}, body={"is_working": False, "reason": "2027年元旦"})


def _override(world: World, api: ApiFactory) -> Prepared:
    steps.enter_2027_new_year(api, world)
    return Prepared(
        params={"day": DAY},
        body={"is_working": False, "reason": "2027年元旦（更正）"},
        etag_of=f"/api/v1/calendar/overrides/{DAY}",
    )


def _hours(world: World, api: ApiFactory) -> Prepared:
    return Prepared(body={"spans": [{"start": "08:30", "end": "17:30"}]})


def _year(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params={"year": "2027"}, body=steps.schedule_2027())


ROWS: list[Row] = [
    Row("GET", "/api/v1/calendar/years/{year}", only(200, *EVERYONE), _year),
    # a whole year's schedule, imported in place of what the year had: the admin only
    Row("PUT", "/api/v1/calendar/years/{year}", only(200, ADMIN), _year),
    Row("GET", "/api/v1/calendar/hours", only(200, *EVERYONE)),
    # the first working hours the admin sets: 201
    Row("PUT", "/api/v1/calendar/hours", only(201, ADMIN), _hours),
    Row("GET", "/api/v1/calendar", only(200, *EVERYONE)),
    Row("GET", "/api/v1/calendar/overrides", only(200, *EVERYONE)),
    Row("GET", "/api/v1/calendar/overrides/{day}", only(200, *EVERYONE), _override),
    # a new override: created (201) by the admin only
    Row("PUT", "/api/v1/calendar/overrides/{day}", only(201, ADMIN), _new_override),
    Row("DELETE", "/api/v1/calendar/overrides/{day}", only(204, ADMIN), _override),
]
