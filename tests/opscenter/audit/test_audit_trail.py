import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from opscenter.db import Database
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import World


def _events(api: ApiFactory, world: World, **params: str) -> list[dict[str, object]]:
    response = api.as_(world.auditor).get("/api/v1/audit-events", params={"limit": "200", **params})
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_a_state_change_writes_one_event_naming_actor_fields_and_request(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = f"/api/v1/users/{world.operator.user_id}"
    changed = admin.patch(
        path,
        {"display_name": "赵敏", "role": "operator"},
        headers={"If-Match": admin.get(path).headers["ETag"], "X-Request-ID": "req-42"},
    )
    assert changed.status_code == 200
    assert changed.headers["x-request-id"] == "req-42"

    (event,) = _events(api, world, object_id=str(world.operator.user_id), action="user.update")
    assert event["actor_user_id"] == str(world.admin.user_id)
    assert event["actor_organization_id"] == str(world.admin.organization_id)
    assert event["actor_role"] == "admin"
    assert event["object_type"] == "user"
    assert event["changes"] == {"display_name": ["", "赵敏"]}, "only what changed, before and after"
    assert event["request_id"] == "req-42"


def test_a_refused_request_writes_no_event(world: World, api: ApiFactory) -> None:
    before = len(_events(api, world))
    refused = api.as_(world.admin).post(
        "/api/v1/users",
        {"name": "x.y", "role": "operator", "organization_id": str(world.department.organization_id)},
    )
    assert refused.status_code == 422
    assert len(_events(api, world)) == before


def test_a_change_that_changes_nothing_writes_no_event(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = f"/api/v1/users/{world.operator.user_id}"
    etag = admin.get(path).headers["ETag"]
    same = admin.patch(path, {"role": "operator"}, headers={"If-Match": etag})
    assert same.status_code == 200
    assert same.headers["ETag"] == etag
    assert _events(api, world, object_id=str(world.operator.user_id), action="user.update") == []


def test_events_are_listed_newest_first_and_filtered(world: World, api: ApiFactory) -> None:
    events = _events(api, world)
    sequence = [int(str(event["seq"])) for event in events]
    assert sequence == sorted(sequence, reverse=True)
    assert {event["action"] for event in _events(api, world, action="api_key.create")} == {"api_key.create"}
    naive = api.as_(world.auditor).get("/api/v1/audit-events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["errors"][0]["field"] == "since"


def _verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSCENTER_DATABASE_URL": settings.database_url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "opscenter.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _as_intruder(db: Database, statement: str, **params: object) -> None:
    """What someone with direct database access could do (on PostgreSQL, a superuser bypassing the trigger)."""
    with db.transaction(write=True) as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text(statement), params)


def test_verify_passes_on_an_untouched_trail(world: World, settings: Settings) -> None:
    result = _verify(settings)
    assert result.returncode == 0, result.stderr
    # the world: 4 organizations, 7 users, 7 keys
    assert "intact: 18 events verified" in result.stdout


def test_verify_names_an_edited_event(world: World, db: Database, settings: Settings) -> None:
    _as_intruder(db, "UPDATE audit_event SET actor_name = 'someone else' WHERE seq = 3")
    result = _verify(settings)
    assert result.returncode == 1
    assert "event 3" in result.stderr
    assert "altered" in result.stderr


def test_verify_names_a_deleted_event(world: World, db: Database, settings: Settings) -> None:
    _as_intruder(db, "DELETE FROM audit_event WHERE seq = 5")
    result = _verify(settings)
    assert result.returncode == 1
    assert "events 5..5 are missing" in result.stderr


def test_verify_notices_events_cut_from_the_end(world: World, db: Database, settings: Settings) -> None:
    _as_intruder(db, "DELETE FROM audit_event WHERE seq > 15")
    result = _verify(settings)
    assert result.returncode == 1
    assert "head records event" in result.stderr


@pytest.mark.postgresql_only  # SQLite has no such trigger; there the hash chain (above) is the protection
def test_postgresql_refuses_to_change_or_delete_an_event(world: World, db: Database) -> None:
    for statement in (
        "UPDATE audit_event SET actor_name = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction(write=True) as session:
            session.execute(text(statement))
