"""Missed runs: a trigger time that passed while no process led runs once when one leads again, never twice."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import REGISTRY
from sqlmodel import Session

from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.job_runs import is_missed, last_runs, latest_fire_time
from opscenter.leadership import LeaderScheduler, SoleCandidate
from opscenter.scheduler import Job, JobContext, run_job
from opscenter.timekeeping import SHANGHAI, utcnow
from tests.processes import eventually

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Tuesday

DAILY_0330 = CronTrigger(hour=3, minute=30, timezone=SHANGHAI)
MONTHLY_1ST_0200 = CronTrigger(day=1, hour=2, timezone=SHANGHAI)
EVERY_MINUTE = CronTrigger(minute="*", timezone=SHANGHAI)


@pytest.mark.parametrize(
    ("trigger", "latest"),
    [
        (DAILY_0330, datetime(2026, 3, 9, 19, 30, tzinfo=UTC)),  # 03:30 Shanghai today
        (MONTHLY_1ST_0200, datetime(2026, 2, 28, 18, 0, tzinfo=UTC)),  # 1 March 02:00 Shanghai
        (EVERY_MINUTE, NOON),
        (CronTrigger(year=2030, timezone=SHANGHAI), None),  # never fired yet
    ],
)
def test_latest_fire_time_is_the_last_trigger_time_at_or_before_now(
    trigger: CronTrigger, latest: datetime | None
) -> None:
    assert latest_fire_time(trigger, NOON) == latest


@pytest.mark.parametrize(
    ("trigger", "last_run_at", "missed"),
    [
        (DAILY_0330, None, True),  # never ran
        (DAILY_0330, datetime(2026, 3, 9, 19, 30, 2, tzinfo=UTC), False),  # ran at today's 03:30
        (DAILY_0330, datetime(2026, 3, 8, 19, 30, 2, tzinfo=UTC), True),  # down across today's 03:30
        (MONTHLY_1ST_0200, datetime(2026, 2, 28, 18, 0, 1, tzinfo=UTC), False),
        (MONTHLY_1ST_0200, datetime(2026, 1, 31, 18, 0, 1, tzinfo=UTC), True),  # down over 1 March
        (IntervalTrigger(hours=1), NOON - timedelta(minutes=59), False),
        (IntervalTrigger(hours=1), NOON - timedelta(minutes=61), True),  # an hour passed without a run
    ],
)
def test_a_run_is_missed_when_a_trigger_time_passed_since_the_last_run(
    trigger: CronTrigger, last_run_at: datetime | None, missed: bool
) -> None:
    assert is_missed(trigger, last_run_at, NOON) is missed


class Counted:
    """A daily job that counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.lock = threading.Lock()
        self.job = Job(id="test.daily", description="test", trigger=DAILY_0330, run=self._run)

    def _run(self, session: Session, context: JobContext[Actor]) -> None:
        with self.lock:
            self.runs += 1


def _elections() -> float:
    return REGISTRY.get_sample_value("opscenter_scheduler_elections_total") or 0.0


def _lead_once(db: Database, job: Job, *, settle: float = 0.0) -> None:
    """Start a scheduler that leads at once (as after a restart), let it catch up, stop it."""
    scheduler = LeaderScheduler(db, [job], system_actor=Actor.of_job, election=SoleCandidate(), poll_seconds=0.1)
    elected_before = _elections()
    scheduler.start()
    eventually(
        lambda: _elections() > elected_before and REGISTRY.get_sample_value("opscenter_scheduler_leader") == 1,
        within=10,
        what="the scheduler leads, as /metrics says",
    )
    threading.Event().wait(settle)
    scheduler.stop()


def test_a_restart_across_a_trigger_time_runs_the_missed_run_once(db: Database) -> None:
    counted = Counted()
    latest = latest_fire_time(DAILY_0330, utcnow())
    assert latest is not None
    # The last run served the trigger time before; then the process was down across the latest one.
    assert (
        run_job(db, counted.job, system_actor=Actor.of_job, now=latest - timedelta(days=1) + timedelta(seconds=3))
        == "ok"
    )
    assert counted.runs == 1

    scheduler = LeaderScheduler(
        db, [counted.job], system_actor=Actor.of_job, election=SoleCandidate(), poll_seconds=0.1
    )
    scheduler.start()
    eventually(lambda: counted.runs == 2, within=10, what="the missed run ran")
    scheduler.stop()
    with db.transaction(write=False) as session:
        assert last_runs(session)["test.daily"] > latest

    _lead_once(db, counted.job, settle=1.0)  # a second restart: nothing missed this time
    assert counted.runs == 2, "the missed run ran once, not again on the next restart"


def test_a_failed_run_is_not_recorded_so_the_next_leader_runs_it_again(db: Database) -> None:
    def fail(session: Session, context: JobContext[Actor]) -> None:
        raise RuntimeError("Prometheus went away")

    failing = Job(id="test.fails", description="test", trigger=DAILY_0330, run=fail)
    assert run_job(db, failing, system_actor=Actor.of_job) == "failed"
    with db.transaction(write=False) as session:
        assert "test.fails" not in last_runs(session)


def test_a_read_only_job_records_its_run_too(db: Database) -> None:
    reads = Job(id="test.reads", description="test", trigger=DAILY_0330, run=lambda s, c: None, writes=False)
    assert run_job(db, reads, system_actor=Actor.of_job) == "ok"
    with db.transaction(write=False) as session:
        assert "test.reads" in last_runs(session)
