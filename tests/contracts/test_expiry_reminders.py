from datetime import UTC, date, datetime

import pytest

from contracts.agreements.jobs import JOBS, due_reminder
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World

EXPIRY = next(job for job in JOBS if job.id == "contracts.expiry_reminders")


def _on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2027, 10, 1), None),
        (date(2027, 10, 2), 90),
        (date(2027, 12, 1), 30),
        (date(2027, 12, 24), 7),
        (date(2027, 12, 31), 7),
        (date(2028, 1, 1), None),
    ],
)
def test_the_nearest_threshold_crossed_is_due(today: date, due: int | None) -> None:
    assert due_reminder(today, date(2027, 12, 31)) == due


def test_reminders_at_90_30_and_7_days_each_once(world: World, api: ApiFactory, db: Database) -> None:
    _, contract = steps.standard_contract(api, world)  # ends 2027-12-31, benefits department A
    for day in (
        date(2027, 10, 2),
        date(2027, 10, 2),
        date(2027, 11, 15),
        date(2027, 12, 1),
        date(2027, 12, 1),
        date(2027, 12, 24),
        date(2027, 12, 30),
    ):
        assert run_job(db, EXPIRY, system_actor=Actor.of_job, now=_on(day)) == "ok"

    bureau = api.as_(world.bureau).get("/api/v1/notifications").json()["items"]
    department = api.as_(world.department).get("/api/v1/notifications").json()["items"]
    assert len(bureau) == len(department) == 3
    assert [n["title"] for n in department] == [f"合同 {contract['number']} 将于 2027-12-31 到期"] * 3
    assert {n["kind_label"] for n in department} == {"合同到期提醒"}
    assert "距今 7 天" in department[0]["body"]
    assert "距今 90 天" in department[-1]["body"]
    assert api.as_(world.department_b).get("/api/v1/notifications").json()["items"] == []
    assert api.as_(world.operator).get("/api/v1/notifications").json()["items"] == []
    assert api.as_(world.auditor).get("/api/v1/notifications", params={"count": "true"}).json()["total"] == 6


def test_a_contract_first_seen_late_gets_only_the_reminder_now_due(world: World, api: ApiFactory, db: Database) -> None:
    steps.standard_contract(api, world)
    run_job(db, EXPIRY, system_actor=Actor.of_job, now=_on(date(2027, 12, 10)))
    bodies = [n["body"] for n in api.as_(world.department).get("/api/v1/notifications").json()["items"]]
    assert len(bodies) == 1
    assert "距今 21 天" in bodies[0]


def test_terminated_and_draft_contracts_get_no_reminders(world: World, api: ApiFactory, db: Database) -> None:
    _, contract = steps.standard_contract(api, world)
    steps.act(
        api,
        world.bureau,
        f"/api/v1/contracts/{contract['id']}",
        "terminate",
        {"terminated_on": "2027-06-30", "reason": "机构改革"},
    )
    run_job(db, EXPIRY, system_actor=Actor.of_job, now=_on(date(2027, 12, 1)))
    assert api.as_(world.bureau).get("/api/v1/notifications").json()["items"] == []
