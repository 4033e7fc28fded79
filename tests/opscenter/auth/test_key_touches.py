"""A key's last-used time is written behind the request that used it: authenticating never writes, so it never
waits for a write lock (SQLite's one write lock, or a PostgreSQL row lock on the key) that someone else holds."""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from opscenter.auth.models import ApiKey
from opscenter.auth.touches import KeyTouches
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.factories import Identity, World
from tests.processes import eventually

# What a list page is given on this machine (README "Benchmarks": tens of milliseconds at p50, a shared machine).
BUDGET_SECONDS = 0.5


def _key(db: Database, who: Identity) -> ApiKey:
    with db.transaction(write=False) as session:
        return session.exec(select(ApiKey).where(ApiKey.user_id == who.user_id)).one()


@contextmanager
def _key_held(db: Database, key_id: uuid.UUID) -> Iterator[Session]:
    """What a busy moment looks like to the key's touch: on SQLite another write transaction holds the write lock,
    on PostgreSQL another transaction holds the key's row."""
    with db.transaction(write=True) as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("SELECT id FROM api_key WHERE id = :id FOR UPDATE"), {"id": key_id})
        else:
            session.execute(text("UPDATE organization SET name = name WHERE 0"))  # BEGIN IMMEDIATE is taken
        yield session


def test_using_a_key_records_when_it_was_last_used(world: World, api: ApiFactory, db: Database) -> None:
    before = _key(db, world.auditor)
    assert before.last_used_at is None
    api.as_(world.auditor).get("/api/v1/me")
    eventually(lambda: _key(db, world.auditor).last_used_at, within=10, what="the key's last use was recorded")
    after = _key(db, world.auditor)
    assert after.version == before.version, "bookkeeping must not invalidate the key's ETag"
    assert after.updated_at == before.updated_at, "using a key is not modifying it"


def test_a_request_does_not_wait_for_the_write_its_key_s_touch_needs(
    world: World, api: ApiFactory, db: Database
) -> None:
    key_id = _key(db, world.department).id
    department = api.as_(world.department)
    with _key_held(db, key_id):
        started = time.perf_counter()
        answer = department.get("/api/v1/service-instances")
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200, answer.text
        assert _key(db, world.department).last_used_at is None  # the touch waits; the request did not
    assert elapsed < BUDGET_SECONDS, f"the first request with the key took {elapsed:.2f} s"
    eventually(lambda: _key(db, world.department).last_used_at, within=10, what="the touch was written after all")


def test_touches_are_written_once_per_key_with_the_latest_use(world: World, db: Database) -> None:
    touches = KeyTouches(db, touch_interval=timedelta(seconds=60))
    key_id = _key(db, world.operator).id
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    touches.note(key_id, first + timedelta(seconds=30))
    touches.note(key_id, first)
    assert touches.write() == 1
    assert _key(db, world.operator).last_used_at == first + timedelta(seconds=30)
    touches.note(key_id, first + timedelta(seconds=50))  # within the interval: not worth a write
    touches.write()
    assert _key(db, world.operator).last_used_at == first + timedelta(seconds=30)
    assert touches.write() == 0


def test_a_touch_that_could_not_be_written_is_written_on_the_next_try(world: World, db: Database) -> None:
    touches = KeyTouches(db, touch_interval=timedelta(seconds=60))
    key_id = _key(db, world.operator).id
    used_at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    touches.note(key_id, used_at)
    broken = Database(db.settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:1/none"}))
    touches.db = broken
    try:
        with pytest.raises(OperationalError):
            touches.write()
    finally:
        broken.dispose()
    touches.db = db
    assert touches.write() == 1
    assert _key(db, world.operator).last_used_at == used_at


def test_stopping_writes_what_was_noted(world: World, db: Database) -> None:
    touches = KeyTouches(db, touch_interval=timedelta(seconds=60))
    touches.start()
    used_at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with _key_held(db, _key(db, world.operator).id):
        touches.note(_key(db, world.operator).id, used_at)  # the writer waits behind the held lock
    touches.stop()
    assert _key(db, world.operator).last_used_at == used_at
