import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from migrations import MIGRATIONS
from opscenter.db import Database, WriterQueue, new_id, sqlalchemy_url
from opscenter.identity.models import Organization, OrgKind
from tests.conftest import make_settings


def test_plain_urls_get_our_driver() -> None:
    assert sqlalchemy_url("postgresql://ops@db.example/opscenter").drivername == "postgresql+psycopg"
    assert sqlalchemy_url("postgres://ops@db.example/opscenter").drivername == "postgresql+psycopg"
    assert sqlalchemy_url("sqlite:///opscenter.db").drivername == "sqlite"


def test_ids_are_version_7_and_sort_by_creation() -> None:
    ids = []
    for _ in range(3):
        ids.append(new_id())
        time.sleep(0.002)
    assert all(identifier.version == 7 for identifier in ids)
    assert ids == sorted(ids)


def test_instants_come_back_aware_utc_and_naive_ones_are_refused(db: Database) -> None:
    eastern = timezone(timedelta(hours=8))
    with db.transaction(write=True) as session:
        organization = Organization(
            name="时区测试", kind=OrgKind.DEPARTMENT, created_at=datetime(2026, 2, 14, 9, 30, tzinfo=eastern)
        )
        session.add(organization)
    with db.transaction(write=False) as session:
        stored = session.exec(select(Organization).where(Organization.name == "时区测试")).one()
    assert stored.created_at == datetime(2026, 2, 14, 1, 30, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC
    naive = Organization(name="naive", kind=OrgKind.DEPARTMENT, created_at=datetime(2026, 1, 1))  # noqa: DTZ001
    with db.transaction(write=True) as session:
        session.add(naive)
        with pytest.raises(StatementError, match="naive datetime refused"):
            session.flush()
        session.rollback()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_sqlite_url: str) -> None:
    database = Database(make_settings(tmp_sqlite_url))
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        database.dispose()


def test_concurrent_sqlite_writers_queue_instead_of_failing(tmp_sqlite_url: str) -> None:
    """Each writer reads, thinks, then writes: the pattern that fails with deferred BEGIN in WAL mode."""
    settings = make_settings(tmp_sqlite_url)
    MIGRATIONS.upgrade(settings)
    database = Database(settings)
    errors: list[Exception] = []

    def writer(number: int) -> None:
        try:
            for round_ in range(5):
                with database.transaction(write=True) as session:
                    session.exec(select(Organization)).all()
                    time.sleep(0.002)
                    session.add(Organization(name=f"部门{number}-{round_}", kind=OrgKind.DEPARTMENT))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with database.transaction(write=False) as session:
            assert len(session.exec(select(Organization)).all()) == 40
    finally:
        database.dispose()


def test_the_write_lock_goes_to_whoever_waited_first_not_back_to_the_one_that_let_it_go() -> None:
    queue = WriterQueue()
    order: list[str] = []
    assert queue.acquire(timeout=1)

    def request() -> None:
        assert queue.acquire(timeout=5)
        order.append("request")
        queue.release()

    waiting = threading.Thread(target=request)
    waiting.start()
    time.sleep(0.1)  # the request waits
    queue.release()
    assert queue.acquire(timeout=5)  # the job's next step asks again at once
    order.append("job")
    queue.release()
    waiting.join()
    assert order == ["request", "job"]


def test_a_write_waits_for_one_step_of_a_job_that_writes_in_steps_not_for_the_whole_job(tmp_sqlite_url: str) -> None:
    settings = make_settings(tmp_sqlite_url)
    MIGRATIONS.upgrade(settings)
    database = Database(settings)
    job_ends = time.monotonic() + 2.0

    def job() -> None:  # steps of 50 ms each, one right after the other, for two seconds
        while time.monotonic() < job_ends:
            with database.transaction(write=True) as session:
                session.execute(text("UPDATE organization SET name = name WHERE 0"))
                time.sleep(0.05)

    stepping = threading.Thread(target=job)
    stepping.start()
    waits = []
    try:
        time.sleep(0.2)
        for n in range(5):
            started = time.perf_counter()
            with database.transaction(write=True) as session:
                session.add(Organization(name=f"部门{n}", kind=OrgKind.DEPARTMENT))
            waits.append(time.perf_counter() - started)
            time.sleep(0.03)
    finally:
        stepping.join()
        database.dispose()
    assert max(waits) < 0.25, f"waits of {[round(wait, 3) for wait in waits]} s behind steps of 0.05 s"
