"""Working hours: 09:00–18:00 until the admin sets other spans; the calendar and the clock follow them."""

from datetime import datetime, timedelta, timezone

import pytest

from opscenter.calendar import service
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.opscenter.calendar import steps

BEIJING = timezone(timedelta(hours=8))
LUNCH_BREAK = {"spans": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]}


def test_the_admin_sets_a_lunch_break_and_the_business_clock_follows(
    world: World, api: ApiFactory, db: Database
) -> None:
    default = api.as_(world.department).get("/api/v1/calendar/hours")
    assert default.status_code == 200
    assert "ETag" not in default.headers
    assert default.json() | {"spans": None} == {
        "spans": None,
        "is_default": True,
        "version": None,
        "set_by_id": None,
        "updated_at": None,
    }
    assert default.json()["spans"] == [{"start": "09:00", "end": "18:00"}]

    admin = api.as_(world.admin)
    first = admin.put("/api/v1/calendar/hours", LUNCH_BREAK)
    assert (first.status_code, first.headers["ETag"]) == (201, '"1"'), first.text
    assert first.json()["spans"] == LUNCH_BREAK["spans"]
    monday = steps.day_of(steps.days(api, world.operator, "2026-03-02", "2026-03-02"), "2026-03-02")
    assert monday["hours"] == LUNCH_BREAK["spans"]
    with db.transaction(write=False) as session:
        # 11:00 + 90 working minutes: one hour before lunch, half an hour after it
        due = service.working_calendar(session).add_business_minutes(datetime(2026, 3, 2, 11, tzinfo=BEIJING), 90)
        assert due == datetime(2026, 3, 2, 14, tzinfo=BEIJING)

    later = {"spans": [{"start": "08:30", "end": "17:30"}]}
    assert admin.put("/api/v1/calendar/hours", later).status_code == 409
    assert admin.put("/api/v1/calendar/hours", later, headers={"If-Match": '"9"'}).status_code == 412
    replaced = admin.put("/api/v1/calendar/hours", later, headers={"If-Match": '"1"'})
    assert (replaced.status_code, replaced.headers["ETag"], replaced.json()["is_default"]) == (200, '"2"', False)
    with db.transaction(write=False) as session:
        due = service.working_calendar(session).add_business_minutes(datetime(2026, 3, 2, 17, tzinfo=BEIJING), 60)
        assert due == datetime(2026, 3, 3, 9, tzinfo=BEIJING)

    events = ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"object_type": "calendar_hours"}))
    assert [event["action"] for event in events["items"]] == ["calendar_hours.set", "calendar_hours.set"]
    assert events["items"][0]["changes"]["spans"] == [[["09:00", "12:00"], ["13:30", "18:00"]], [["08:30", "17:30"]]]


@pytest.mark.parametrize(
    ("spans", "field"),
    [
        ([{"start": "12:00", "end": "09:00"}], "spans.0.end"),
        ([{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}], "spans.1.start"),
        ([{"start": "9:00", "end": "18:00"}], "spans.0.start"),
        ([{"start": "09:00", "end": "24:30"}], "spans.0.end"),
        ([], "spans"),
    ],
)
def test_working_hours_are_spans_in_order_that_do_not_overlap(
    world: World, api: ApiFactory, spans: list[dict[str, str]], field: str
) -> None:
    refused = api.as_(world.admin).put("/api/v1/calendar/hours", {"spans": spans})
    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == [field]
    assert ok(api.as_(world.admin).get("/api/v1/calendar/hours"))["is_default"] is True
