"""Scheduled work. Domains declare ``Job``s in their ``jobs.py``; the plugin registers them here.

Each run is one transaction. On PostgreSQL the run first takes a transaction-scoped advisory lock
named after the job, so when several workers (or several ``serve`` processes) share a database only
one runs a given job at a time; the others skip that tick. SQLite write transactions are serialized
already. Jobs are idempotent by unique keys, so a second run never doubles anything either.

Which process runs the scheduler at all is decided in ``opscenter/leadership.py``: one leader per
database. A successful run is recorded in ``job_run`` (``opscenter/job_runs.py``) so that a new leader
runs once what was missed while none was leading.

Who acts for a run (in the audit trail, in what it writes) is the caller's to say: ``system_actor`` makes
the actor of one run from the job's id (the wiring passes ``opscenter.identity.actor.Actor.of_job``).
"""

import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import text
from sqlmodel import Session

from monitoring.metrics import JOB_LAST_SUCCESS, JOB_RUNS
from opscenter.db import Database
from opscenter.job_runs import record_run
from opscenter.timekeeping import SHANGHAI, utcnow

log = logging.getLogger(__name__)


ActorT = TypeVar("ActorT")


@dataclass(frozen=True)
class JobContext(Generic[ActorT]):
    """One run of a job: the instant it runs for, and who acts (``JobContext[Actor]`` where the job acts)."""

    now: datetime
    actor: ActorT


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    trigger: BaseTrigger
    run: Callable[[Session, JobContext[Any]], object]
    writes: bool = True


SystemActor = Callable[[str], object]
"""Who acts for one run of the job with this id."""


def run_job(db: Database, job: Job, *, system_actor: SystemActor, now: datetime | None = None) -> str:
    """Run ``job`` once, now, as ``system_actor(job.id)``. Returns ``ok``, ``skipped`` (another process holds it)
    or ``failed``."""
    context = JobContext(now=now or utcnow(), actor=system_actor(job.id))
    try:
        with db.transaction(write=job.writes) as session:
            if not _try_job_lock(session, job.id):
                outcome = "skipped"
            else:
                job.run(session, context)
                if job.writes:  # recorded with the job's own work: both commit or neither
                    record_run(session, job.id, context.now)
                outcome = "ok"
        if outcome == "ok" and not job.writes:
            with db.transaction(write=True) as session:
                record_run(session, job.id, context.now)
    except Exception:
        log.exception("job %s failed; it runs again at its next time", job.id)
        outcome = "failed"
    JOB_RUNS.labels(job=job.id, outcome=outcome).inc()
    if outcome == "ok":
        JOB_LAST_SUCCESS.labels(job=job.id).set_to_current_time()
    return outcome


def _try_job_lock(session: Session, job_id: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(f"opscenter-job:{job_id}".encode()).digest()[:8], "big", signed=True)
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


def build_scheduler(
    db: Database, jobs: Sequence[Job], *, system_actor: SystemActor, blocking: bool, run_now: Collection[str] = ()
) -> BaseScheduler:
    """An APScheduler with ``jobs`` in its in-memory store; those named in ``run_now`` run once at start,
    then at their trigger times."""
    # run_job logs what matters (failures); APScheduler's two INFO lines per run would be two a second for
    # the audit trail's sequencer (audit.seal).
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone=SHANGHAI,
        # A tick missed while this process could not run it (pool busy, machine asleep) runs once when it can,
        # not once per missed tick. Ticks missed while no process led are caught up from job_run instead.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    for job in jobs:
        first = {"next_run_time": utcnow()} if job.id in run_now else {}
        scheduler.add_job(
            run_job,
            trigger=job.trigger,
            args=(db, job),
            kwargs={"system_actor": system_actor},
            id=job.id,
            name=job.description,
            **first,
        )
    return scheduler
