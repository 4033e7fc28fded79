"""What jobs find and tell, once: next year's working calendar still unknown in December, the SLA pull failing."""

from datetime import UTC, date, datetime

from sqlmodel import select

from opscenter.calendar.jobs import JOBS as CALENDAR_JOBS
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.notifications.models import NotificationEvent, NotificationKind
from opscenter.scheduler import run_job
from sla.measurements import notices as sla_notices

WATCH = CALENDAR_JOBS[0]


def kinds(db: Database) -> list[tuple[NotificationKind, str]]:
    with db.transaction(write=False) as session:
        return [(event.kind, event.object_id) for event in session.exec(select(NotificationEvent))]


def test_an_unknown_next_year_is_told_from_december_once(db: Database) -> None:
    # chinese-calendar knows 2026 but not 2027; the admin has entered no override for 2027.
    for moment in (datetime(2026, 11, 20, 2, tzinfo=UTC), datetime(2026, 12, 1, 2, tzinfo=UTC)):
        assert run_job(db, WATCH, system_actor=Actor.of_job, now=moment) == "ok"
    assert run_job(db, WATCH, system_actor=Actor.of_job, now=datetime(2026, 12, 2, 2, tzinfo=UTC)) == "ok"
    assert kinds(db) == [(NotificationKind.CALENDAR_UNKNOWN, "2027")]


def test_a_failing_sla_pull_is_told_once_per_day(db: Database) -> None:
    actor = Actor.of_job("sla.pull_measurements")
    for _ in range(3):  # the hourly retries of the same day
        with db.transaction(write=True) as session:
            sla_notices.tell_pull_failing(session, date(2026, 10, 5), "connection refused", actor=actor)
    with db.transaction(write=True) as session:
        sla_notices.tell_pull_failing(session, date(2026, 10, 6), "connection refused", actor=actor)
    assert kinds(db) == [
        (NotificationKind.SLA_PULL_FAILING, "2026-10-05"),
        (NotificationKind.SLA_PULL_FAILING, "2026-10-06"),
    ]
