"""Fresh databases for a run, created, migrated and dropped; and what PostgreSQL was doing meanwhile."""

import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.harness.command import BOTH
from bench.harness.servers import cpu_seconds

# ---- databases --------------------------------------------------------------------------------------------------


@contextmanager
def databases(which: Iterable[str] = BOTH, *, migrate: bool = True) -> Iterator[dict[str, str]]:
    """Fresh databases by name: a SQLite file (WAL) and a PostgreSQL database created for this run and dropped
    after it; migrated to head unless ``migrate`` is false."""
    from tests.support import postgres_database

    which = list(which)
    folder = tempfile.mkdtemp(prefix="opscenter-bench-")
    try:
        with ExitStack() as stack:
            urls: dict[str, str] = {}
            for name in which:
                if name == "sqlite":
                    urls[name] = f"sqlite:///{folder}/bench.db"
                elif name == "postgresql":
                    urls[name] = stack.enter_context(postgres_database("opscenter_bench"))
                else:
                    raise ValueError(f"no such database: {name}")
            if migrate:
                for url in urls.values():
                    upgrade(url)
            yield urls
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def settings_for(url: str, **overrides: Any) -> Any:
    from opscenter.settings import LogLevel, Settings

    return Settings(database_url=url, log_level=LogLevel.WARNING, **overrides)


def upgrade(url: str) -> None:
    from migrations import MIGRATIONS

    MIGRATIONS.upgrade(settings_for(url))


def settle(url: str, *tables: str) -> None:
    """Fresh statistics (and no dead rows) after a bulk seed, as a running database has them from autovacuum:
    ``VACUUM ANALYZE`` on PostgreSQL, ``ANALYZE`` on SQLite; of ``tables``, or of everything."""
    from sqlalchemy import create_engine

    from opscenter.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            for table in tables or (None,):
                connection.exec_driver_sql(command if table is None else f"{command} {table}")
    finally:
        engine.dispose()


def admin_conninfo() -> str:
    """The PostgreSQL server's maintenance connection (to watch ``pg_stat_activity``)."""
    from tests.support import postgres_admin_url

    return make_url(postgres_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresActivity:
    """Samples one database's ``pg_stat_activity`` (and its backends' CPU time) in a thread while a load runs:
    how many sessions were active, on what they waited, how busy the database itself was."""

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.database = make_url(url).database or ""
        self.interval = interval
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.cpu_start: dict[int, float] = {}
        self.cpu_end: dict[int, float] = {}
        self.wall = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PostgresActivity":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.monotonic() - self._started

    def _run(self) -> None:
        with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                rows = connection.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                self.samples += 1
                for pid, state, wait_type, wait_event in rows:
                    cpu = cpu_seconds(pid)
                    if cpu is not None:
                        self.cpu_start.setdefault(pid, cpu)
                        self.cpu_end[pid] = cpu
                    if state == "active":
                        self.states[f"waiting on {wait_type}:{wait_event}" if wait_type else "running"] += 1
                    else:
                        self.states[str(state)] += 1

    @property
    def db_cores(self) -> float:
        """CPU seconds of the database's backends per wall second (1.00 = one core busy)."""
        return sum(self.cpu_end[pid] - self.cpu_start[pid] for pid in self.cpu_end) / max(self.wall, 1e-6)

    @property
    def average_active(self) -> float:
        active = sum(count for state, count in self.states.items() if not state.startswith("idle"))
        return active / max(self.samples, 1)

    def summary(self, top: int = 4) -> str:
        total = max(sum(self.states.values()), 1)
        return ", ".join(f"{state} {count / total:.0%}" for state, count in self.states.most_common(top))
