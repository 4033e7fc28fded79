"""Scheduled work. Domains declare ``Job``s in their ``jobs.py``; the plugin registers them here.

A job never holds a transaction while it waits: on SQLite a write transaction holds the one write lock every
request that writes needs (and a read transaction pins its snapshot, so the WAL cannot be checkpointed past it);
on PostgreSQL an open transaction holds its locks and keeps vacuum from cleaning behind it. So a job is one of:

- ``run(session, context)``: database work only, and short (the contracts' expiry reminders): one transaction,
  which the scheduler opens and commits together with the job's ``job_run`` record;
- ``run_steps(db, context)``: work that waits on something else (Prometheus), or is long: it gets the database
  and opens its own transactions, reading what it needs in a short read transaction, waiting or computing with
  none open, and writing in short write transactions, each idempotent by its unique keys, so a run stopped
  between two of them is safe to run again.

On PostgreSQL a run first takes an advisory lock named after the job, so when several workers (or several
``serve`` processes) share a database only one runs a given job at a time; the others skip that tick. A ``run``
job takes it for its transaction; a ``run_steps`` job holds it on a connection of its own outside any
transaction (a session-level lock, freed with the session if the process dies). SQLite runs the jobs in one
process (``opscenter/leadership.py``) and APScheduler never starts a job while its previous run goes on. Jobs are
idempotent by unique keys, so a second run never doubles anything either.

Which process runs the scheduler at all is decided in ``opscenter/leadership.py``: one leader per
database. A successful run is recorded in ``job_run`` (``opscenter/job_runs.py``) so that a new leader
runs once what was missed while none was leading.

Who acts for a run (in the audit trail, in what it writes) is the caller's to say: ``system_actor`` makes
the actor of one run from the job's id (the wiring passes ``opscenter.identity.actor.Actor.of_job``).
"""

import hashlib
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
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
from opscenter.tracing import tracer

log = logging.getLogger(__name__)


ActorT = TypeVar("ActorT")


@dataclass(frozen=True)
class JobContext(Generic[ActorT]):
    """One run of a job: the instant it runs for, and who acts (``JobContext[Actor]`` where the job acts)."""

    now: datetime
    actor: ActorT


@dataclass(frozen=True)
class Job:
    """A scheduled job: ``run`` (one short transaction the scheduler opens: a write transaction, or a read one
    with ``writes=False``) or ``run_steps`` (opens its own short transactions); see the module's docstring."""

    id: str
    description: str
    trigger: BaseTrigger
    run: Callable[[Session, JobContext[Any]], object] | None = None
    writes: bool = True
    run_steps: Callable[[Database, JobContext[Any]], object] | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_steps is None):
            raise ValueError(f"job {self.id}: give it run or run_steps, one of them")


SystemActor = Callable[[str], object]
"""Who acts for one run of the job with this id."""


def run_job(db: Database, job: Job, *, system_actor: SystemActor, now: datetime | None = None) -> str:
    """Run ``job`` once, now, as ``system_actor(job.id)``. Returns ``ok``, ``skipped`` (another process holds it)
    or ``failed``."""
    context = JobContext(now=now or utcnow(), actor=system_actor(job.id))
    # One trace per run, its database and Prometheus spans inside (nothing is recorded while traces are off).
    with tracer().start_as_current_span(f"job {job.id}", attributes={"opscenter.job": job.id}) as span:
        try:
            outcome = _in_steps(db, job, job.run_steps, context) if job.run_steps else _in_one(db, job, context)
        except Exception:
            log.exception("job %s failed; it runs again at its next time", job.id)
            outcome = "failed"
        span.set_attribute("opscenter.job.outcome", outcome)
    JOB_RUNS.labels(task=job.id, outcome=outcome).inc()
    if outcome == "ok":
        JOB_LAST_SUCCESS.labels(task=job.id).set_to_current_time()
    return outcome


def _in_one(db: Database, job: Job, context: JobContext[Any]) -> str:
    assert job.run is not None
    with db.transaction(write=job.writes) as session:
        if not _try_job_lock(session, job.id):
            return "skipped"
        job.run(session, context)
        if job.writes:  # recorded with the job's own work: both commit or neither
            record_run(session, job.id, context.now)
    if not job.writes:
        with db.transaction(write=True) as session:
            record_run(session, job.id, context.now)
    return "ok"


def _in_steps(
    db: Database, job: Job, steps: Callable[[Database, JobContext[Any]], object], context: JobContext[Any]
) -> str:
    with _job_lock_outside_transactions(db, job.id) as held:
        if not held:
            return "skipped"
        steps(db, context)
        with db.transaction(write=True) as session:
            record_run(session, job.id, context.now)
    return "ok"


def _job_lock_key(job_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"opscenter-job:{job_id}".encode()).digest()[:8], "big", signed=True)


def _try_job_lock(session: Session, job_id: str) -> bool:
    """PostgreSQL: the job's advisory lock for the session's transaction (True elsewhere)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = {"key": _job_lock_key(job_id)}
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar())


@contextmanager
def _job_lock_outside_transactions(db: Database, job_id: str) -> Iterator[bool]:
    """PostgreSQL: the job's advisory lock (the same one ``_try_job_lock`` takes) held by a pooled connection in
    autocommit mode, so no transaction stays open while the job runs; yields whether it was free (True elsewhere)."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = {"key": _job_lock_key(job_id)}
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
        try:
            yield held
        finally:
            if held:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                except Exception:
                    log.warning("job %s: could not free its lock; dropping its connection", job_id, exc_info=True)
                    connection.invalidate()  # the session ends, and the lock with it, rather than go back pooled


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
