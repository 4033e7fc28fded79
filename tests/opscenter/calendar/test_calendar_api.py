"""The business calendar over HTTP: everyone reads it, the admin enters overrides, each change audited."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from opscenter.calendar import service
from opscenter.calendar.models import OverrideIn
from opscenter.calendar.working_time import CalendarUnknown
from opscenter.db import Database
from opscenter.identity.actor import Actor
from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.opscenter.calendar import steps
from tests.support import race

BEIJING = timezone(timedelta(hours=8))
NINE_TO_SIX = [{"start": "09:00", "end": "18:00"}]


def test_everyone_reads_the_spring_festival_of_2026_as_the_state_council_set_it(world: World, api: ApiFactory) -> None:
    calendar = steps.days(api, world.department, "2026-02-13", "2026-02-24")
    assert [item["day"] for item in calendar["items"]][::11] == ["2026-02-13", "2026-02-24"]
    assert calendar["unknown_years"] == []
    friday, saturday = steps.day_of(calendar, "2026-02-13"), steps.day_of(calendar, "2026-02-14")
    assert (friday["is_working"], friday["source"], friday["hours"]) == (True, "weekday", NINE_TO_SIX)
    assert (saturday["is_working"], saturday["source"], saturday["name"]) == (True, "package", "春节")
    assert saturday["source_label"] == "国务院节假日安排"
    for day in range(15, 24):
        holiday = steps.day_of(calendar, f"2026-02-{day}")
        assert (holiday["is_working"], holiday["source"], holiday["name"], holiday["hours"]) == (
            False,
            "package",
            "春节",
            [],
        )
    assert steps.day_of(calendar, "2026-02-24")["is_working"] is True
    # an ordinary weekend
    march = steps.days(api, world.operator, "2026-03-07", "2026-03-07")
    assert steps.day_of(march, "2026-03-07") | {"hours": []} == {
        "day": "2026-03-07",
        "is_working": False,
        "source": "weekend",
        "source_label": "周末",
        "name": None,
        "reason": None,
        "hours": [],
    }


def test_without_dates_the_calendar_answers_this_month(world: World, api: ApiFactory) -> None:
    calendar = ok(api.as_(world.auditor).get("/api/v1/calendar"))
    first = date.fromisoformat(calendar["items"][0]["day"])
    last = date.fromisoformat(calendar["items"][-1]["day"])
    assert first.day == 1
    assert (last + timedelta(days=1)).day == 1
    assert first.month == last.month


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-01-01", "to": "2027-01-02"}, "to"),  # 367 days
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01", "to": "yesterday"}, "to"),
    ],
)
def test_a_calendar_read_is_bounded_and_names_the_parameter(
    world: World, api: ApiFactory, query: dict[str, str], field: str
) -> None:
    refused = api.as_(world.department).get("/api/v1/calendar", params=query)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == [field]


def test_a_leap_year_is_one_read(world: World, api: ApiFactory) -> None:
    assert len(steps.days(api, world.department, "2024-01-01", "2024-12-31")["items"]) == 366


def test_an_unknown_year_is_listed_as_unknown_until_the_admin_enters_it(world: World, api: ApiFactory) -> None:
    before = steps.days(api, world.bureau, "2026-12-31", "2027-01-04")
    assert before["unknown_years"] == [2027]
    assert [(item["is_working"], item["source"]) for item in before["items"][1:]] == [(None, "unknown")] * 4

    entered = steps.enter_2027_new_year(api, world)
    assert (entered["day"], entered["is_working"], entered["reason"], entered["version"]) == (
        "2027-01-01",
        False,
        "2027年元旦",
        1,
    )
    assert entered["set_by_id"] == str(world.admin.user_id)

    after = steps.days(api, world.department, "2026-12-31", "2027-01-04")
    assert after["unknown_years"] == []
    assert [(item["is_working"], item["source"], item["reason"]) for item in after["items"]] == [
        (True, "weekday", None),
        (False, "override", "2027年元旦"),
        (False, "weekend", None),
        (False, "weekend", None),
        (True, "weekday", None),
    ]


def test_an_override_is_replaced_with_if_match_removed_with_it_and_every_change_audited(
    world: World, api: ApiFactory
) -> None:
    admin = api.as_(world.admin)
    path = "/api/v1/calendar/overrides/2026-03-09"
    created = admin.put(path, {"is_working": False, "reason": "停电检修，全市放假"})
    assert created.status_code == 201, created.text
    assert (created.headers["ETag"], created.headers["Location"]) == ('"1"', path)
    assert ok(api.as_(world.department).get(path))["reason"] == "停电检修，全市放假"

    body = {"is_working": True, "reason": "更正：照常上班"}
    unconditional = admin.put(path, body)
    assert unconditional.status_code == 409, unconditional.text
    assert [error["field"] for error in unconditional.json()["errors"]] == ["If-Match"]
    assert admin.put(path, body, headers={"If-Match": '"7"'}).status_code == 412
    replaced = admin.put(path, body, headers={"If-Match": '"1"'})
    assert (replaced.status_code, replaced.headers["ETag"], replaced.json()["is_working"]) == (200, '"2"', True)

    assert admin.delete(path).status_code == 428
    assert admin.delete(path, headers={"If-Match": '"1"'}).status_code == 412
    assert admin.delete(path, headers={"If-Match": '"2"'}).status_code == 204
    assert admin.get(path).status_code == 404
    assert admin.put(path, body, headers={"If-Match": '"2"'}).status_code == 412  # gone: nothing to replace
    assert steps.day_of(steps.days(api, world.auditor, "2026-03-09", "2026-03-09"), "2026-03-09")["source"] == "weekday"

    events = ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"object_type": "calendar_override"}))
    assert [event["action"] for event in reversed(events["items"])] == [
        "calendar_override.create",
        "calendar_override.update",
        "calendar_override.delete",
    ]
    assert events["items"][1]["changes"]["is_working"] == [False, True]


def test_overrides_are_listed_in_day_order(world: World, api: ApiFactory) -> None:
    for day in ("2027-02-10", "2027-01-01", "2027-02-06"):
        steps.enter(api, world, day, working=day == "2027-02-06", reason="2027年安排")
    listed = ok(api.as_(world.operator).get("/api/v1/calendar/overrides", params={"limit": 2}))
    assert [item["day"] for item in listed["items"]] == ["2027-01-01", "2027-02-06"]
    rest = ok(api.as_(world.operator).get("/api/v1/calendar/overrides", params={"cursor": listed["next_cursor"]}))
    assert [item["day"] for item in rest["items"]] == ["2027-02-10"]
    february = ok(api.as_(world.operator).get("/api/v1/calendar/overrides", params={"from": "2027-02-01"}))
    assert [item["day"] for item in february["items"]] == ["2027-02-06", "2027-02-10"]


def test_two_admins_entering_the_same_day_at_once_make_one_override(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = "/api/v1/calendar/overrides/2027-10-01"
    answers = race(
        lambda: admin.put(path, {"is_working": False, "reason": "国庆节"}),
        lambda: admin.put(path, {"is_working": False, "reason": "国庆"}),
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
    assert ok(admin.get(path))["version"] == 1


def test_a_day_beyond_the_calendar_is_not_found(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    answer = admin.put("/api/v1/calendar/overrides/3000-01-01", {"is_working": False, "reason": "x"})
    assert answer.status_code == 404, answer.text
    assert "2999-12-31" in answer.json()["detail"]


def test_the_clock_sees_an_override_at_once_and_refuses_an_unknown_year_naming_it(
    world: World, api: ApiFactory, db: Database
) -> None:
    friday_evening = datetime(2026, 12, 31, 17, tzinfo=BEIJING)
    with db.transaction(write=False) as session:
        first = service.working_calendar(session)
        assert service.working_calendar(session) is first  # cached: a sweep asks for it freely
        with pytest.raises(CalendarUnknown, match="2027"):
            first.add_business_minutes(friday_evening, 120)

    steps.enter_2027_new_year(api, world)
    with db.transaction(write=False) as session:
        calendar = service.working_calendar(session)
        assert calendar is not first
        assert calendar.add_business_minutes(friday_evening, 120) == datetime(2027, 1, 4, 10, tzinfo=BEIJING)

    with db.transaction(write=True) as session:
        system = Actor.system("test", "calendar-test")
        service.set_override(
            session, date(2027, 1, 4), OverrideIn(is_working=False, reason="补休"), actor=system, expected_version=None
        )
        # the same transaction sees its own change
        moved = service.working_calendar(session).add_business_minutes(friday_evening, 120)
        assert moved == datetime(2027, 1, 5, 10, tzinfo=BEIJING).astimezone(UTC)
