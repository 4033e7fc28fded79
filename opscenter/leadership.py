"""Who runs the scheduled jobs: one leader per database, elected by a lock that dies with its holder.

Every process that may run the jobs (each ``opscenter worker``; each ``opscenter serve`` process unless
``--no-scheduler``) is a candidate. A candidate polls for the leader's lock every
``OPSCENTER_SCHEDULER_POLL_SECONDS`` (10 s); whoever holds it builds an APScheduler with the jobs declared
in code (in memory: a job store shared between processes would let two of them fire the same tick),
first runs once whatever was missed while nobody led (``opscenter/job_runs.py``), and runs the jobs
until it stops or loses the lock. Each run still takes its job's advisory transaction lock and relies
on its unique keys (``opscenter/scheduler.py``), so even a moment with two leaders doubles nothing.

The lock:
- PostgreSQL: a session-level advisory lock held on a connection of its own. A leader that dies (crash,
  SIGKILL, OOM) has its socket closed by the kernel, the server ends its session and the lock is free at
  once: a standby takes over within one poll. A leader whose host or network vanishes is found dead by the
  server's TCP keepalives (set on that connection: 10 s idle, then 3 probes 5 s apart), so within
  25 s + one poll; 35 s with the defaults, under the one minute promised. The cut-off leader notices on its
  own poll (TCP user timeout 20 s) and stops its scheduler; until then it cannot reach the database anyway.
- SQLite: an exclusive ``flock`` on ``<database file>-scheduler.lock``; the kernel drops it when the
  holder dies. That covers ``serve --workers N`` on one machine, the only place SQLite runs.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from apscheduler.schedulers.base import BaseScheduler

from monitoring.metrics import JOB_MISSED_RUNS, SCHEDULER_ELECTIONS, SCHEDULER_LEADER
from opscenter.db import Database, sqlalchemy_url
from opscenter.job_runs import missed_jobs
from opscenter.scheduler import Job, SystemActor, build_scheduler
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = int.from_bytes(hashlib.sha256(b"opscenter-scheduler-leader").digest()[:8], "big", signed=True)
# libpq (client side): notice a dead server or network on the leader's own poll.
_CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
    "connect_timeout": 10,
}
# Server side: end the session (and free the lock) of a leader whose host vanished, 25 s after it fell silent:
# keepalives when the connection is idle, a user timeout when an answer to it goes unacknowledged.
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3; "
    "SET tcp_user_timeout = 25000"
)


class Election(Protocol):
    def try_acquire(self) -> bool:
        """Take the leader's lock if it is free; True when this process now holds it."""

    def still_held(self) -> bool:
        """Whether the lock taken earlier is still this process's."""

    def release(self) -> None:
        """Let the lock go (nothing happens when it is not held)."""


class AdvisoryLockElection:
    """PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection, held as long as that session lives."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = sqlalchemy_url(database_url).set(drivername="postgresql").render_as_string(False)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def try_acquire(self) -> bool:
        import psycopg  # here: a process on SQLite never loads the driver (~9 MiB)

        try:
            if self._connection is None:
                self._connection = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name=f"opscenter-scheduler-{os.getpid()}",
                    **_CLIENT_KEEPALIVES,  # type: ignore[arg-type]
                )
                self._connection.execute(_SERVER_KEEPALIVES)
            row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
        except psycopg.Error as exc:
            log.warning("scheduler election: database unreachable (%s); trying again", exc)
            self.release()
            return False
        return bool(row and row[0])

    def still_held(self) -> bool:
        import psycopg

        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")  # a live session still holds its session-level lock
        except psycopg.Error as exc:
            log.error("scheduler election: lost the leader's connection (%s)", exc)
            self.release()
            return False
        return True

    def release(self) -> None:
        import psycopg

        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(psycopg.Error):
                connection.close()  # ending the session frees the lock


class FileLockElection:
    """SQLite: an exclusive, non-blocking ``flock`` on a file beside the database."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            handle, self._file = self._file, None
            handle.close()  # closing the only descriptor drops the flock


class SoleCandidate:
    """An in-memory SQLite database lives in one process: that process always leads."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def election_for(settings: Settings) -> Election:
    """The leader's lock for the configured database."""
    url = sqlalchemy_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLockElection(settings.database_url)
    if not url.database or url.database == ":memory:":
        return SoleCandidate()
    return FileLockElection(Path(f"{os.path.abspath(url.database)}-scheduler.lock"))


class LeaderScheduler:
    """Runs ``jobs`` while this process is the leader; stands by otherwise.

    ``run()`` campaigns in the calling thread until ``stop()`` (``opscenter worker``); ``start()`` does it
    in a background thread (``opscenter serve``). Each run acts as ``system_actor(job.id)``.
    """

    def __init__(
        self,
        db: Database,
        jobs: Sequence[Job],
        *,
        system_actor: SystemActor,
        election: Election,
        poll_seconds: float,
    ) -> None:
        self.db = db
        self.jobs = list(jobs)
        self.system_actor = system_actor
        self.election = election
        self.poll_seconds = poll_seconds
        self._scheduler: BaseScheduler | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Campaign until ``stop()``: lead while holding the lock, try again every poll otherwise."""
        SCHEDULER_LEADER.set(0)
        while True:
            try:
                self._campaign()
            except Exception:
                log.exception("scheduler: could not take over or keep leading; standing by")
                self._step_down(wait=False)
            if self._stopping.wait(self.poll_seconds):
                break
        self._step_down(wait=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="scheduler-leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop campaigning; a leader lets its running jobs finish, then frees the lock."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _campaign(self) -> None:
        if self._scheduler is not None:
            if not self.election.still_held():
                log.error("scheduler: no longer the leader; jobs stop here and another process takes over")
                self._step_down(wait=False)
            return
        if not self._stopping.is_set() and self.election.try_acquire():
            self._take_over()

    def _take_over(self) -> None:
        with self.db.transaction(write=False) as session:
            missed = missed_jobs(session, self.jobs, utcnow())
        for job in missed:
            JOB_MISSED_RUNS.labels(task=job.id).inc()
        scheduler = build_scheduler(
            self.db, self.jobs, system_actor=self.system_actor, blocking=False, run_now={job.id for job in missed}
        )
        scheduler.start()
        self._scheduler = scheduler
        SCHEDULER_LEADER.set(1)
        SCHEDULER_ELECTIONS.inc()
        log.info(
            "scheduler: process %d leads: %d jobs (%s); missed runs caught up now: %s",
            os.getpid(),
            len(self.jobs),
            ", ".join(job.id for job in self.jobs),
            ", ".join(job.id for job in missed) or "none",
        )

    def _step_down(self, *, wait: bool) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=wait)
        SCHEDULER_LEADER.set(0)
        self.election.release()
