"""What the scheduler remembers across restarts: each job's last successful run.

APScheduler keeps its jobs in memory (a job store shared between processes would let two of them
run the same tick), so a process that starts knows nothing of the ticks that passed while no
process was leading. ``job_run`` remembers, per job, when its last successful run started; a new
leader runs once every job whose latest trigger time has passed since then (``missed_jobs``).
"""

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select

from opscenter.db import instant_field

# How far back a new leader looks for a trigger time that passed unserved. A monthly job missed
# more than this ago has been noticed by people long before (its alert fires after a day).
LOOKBACK = timedelta(days=45)
_RUNNER = f"{socket.gethostname()}:{os.getpid()}"


class JobRun(SQLModel, table=True):
    """The last successful run of one scheduled job (one row per job id)."""

    __tablename__ = "job_run"

    job_id: str = Field(primary_key=True, max_length=100)
    last_run_at: datetime = instant_field(description="When the last successful run started (its `now`)")
    run_by: str = Field(default="", max_length=200, description="host:pid of the process that ran it")


class Scheduled(Protocol):
    """What ``missed_jobs`` needs of a job: its id and trigger (``opscenter.scheduler.Job`` fits)."""

    @property
    def id(self) -> str: ...

    @property
    def trigger(self) -> BaseTrigger: ...


J = TypeVar("J", bound=Scheduled)


def record_run(session: Session, job_id: str, started_at: datetime) -> None:
    """Remember that ``job_id`` ran successfully from ``started_at`` (upsert; part of the caller's transaction)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(JobRun).values(job_id=job_id, last_run_at=started_at, run_by=_RUNNER)
    statement = statement.on_conflict_do_update(
        index_elements=[col(JobRun.job_id)],
        set_={"last_run_at": statement.excluded.last_run_at, "run_by": statement.excluded.run_by},
    )
    session.execute(statement)


def last_runs(session: Session) -> dict[str, datetime]:
    """Each job's last successful run start, by job id."""
    return {row.job_id: row.last_run_at for row in session.exec(select(JobRun)).all()}


def latest_fire_time(trigger: BaseTrigger, now: datetime, *, lookback: timedelta = LOOKBACK) -> datetime | None:
    """The trigger's last fire time at or before ``now`` (None when it has not fired within ``lookback``).

    APScheduler 3 triggers only look forward, so reach back in doubling steps until a fire time at or
    before ``now`` appears, then walk forward to the last one: a few dozen trigger calls for any job.
    """
    reach = timedelta(seconds=1)
    while True:
        found = trigger.get_next_fire_time(None, now - reach)
        if found is not None and found <= now:
            break
        if reach >= lookback:
            return None
        reach = min(reach * 2, lookback)
    while (following := trigger.get_next_fire_time(found, now)) is not None and following <= now:
        found = following
    return found  # type: ignore[no-any-return]


def is_missed(trigger: BaseTrigger, last_run_at: datetime | None, now: datetime) -> bool:
    """Whether a trigger time passed since ``last_run_at`` (or ever, for a job that never ran).

    An interval trigger starts counting when its process starts, so for one the question is whether a
    whole interval has passed since the last run.
    """
    if isinstance(trigger, IntervalTrigger):
        return last_run_at is None or last_run_at + trigger.interval <= now
    latest = latest_fire_time(trigger, now)
    return latest is not None and (last_run_at is None or last_run_at < latest)


def missed_jobs(session: Session, jobs: Sequence[J], now: datetime) -> list[J]:
    """The jobs whose latest trigger time before ``now`` has no successful run recorded: run each once."""
    runs = last_runs(session)
    return [job for job in jobs if is_missed(job.trigger, runs.get(job.id), now)]
