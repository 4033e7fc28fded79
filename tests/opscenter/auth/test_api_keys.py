import hashlib
import uuid
from datetime import timedelta

from sqlalchemy import text

from opscenter.auth.models import ApiKey
from opscenter.db import Database
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.factories import World


def test_missing_malformed_unknown_revoked_and_expired_keys_get_the_same_401(
    world: World, api: ApiFactory, db: Database
) -> None:
    admin = api.as_(world.admin)
    revoked = admin.post("/api/v1/api-keys", {"name": "old", "user_id": str(world.operator.user_id)}).json()
    assert admin.act(f"/api/v1/api-keys/{revoked['id']}", "revoke").status_code == 200
    expiring = admin.post(
        "/api/v1/api-keys",
        {
            "name": "short",
            "user_id": str(world.operator.user_id),
            "expires_at": (utcnow() + timedelta(hours=1)).isoformat(),
        },
    ).json()
    with db.transaction(write=True) as session:  # let an hour pass for that key
        session.get_one(ApiKey, uuid.UUID(expiring["id"])).expires_at = utcnow() - timedelta(seconds=1)
    assert api.with_key(expiring["key"]).get("/api/v1/me").status_code == 401

    attempts = {
        "missing": api.as_(None).get("/api/v1/me"),
        "not bearer": api.as_(None).get("/api/v1/me", headers={"Authorization": f"Basic {world.admin.key}"}),
        "malformed": api.with_key("opc_short").get("/api/v1/me"),
        "unknown": api.with_key("opc_" + "A" * 43).get("/api/v1/me"),
        "revoked": api.with_key(revoked["key"]).get("/api/v1/me"),
        "expired": api.with_key(expiring["key"]).get("/api/v1/me"),
    }
    bodies = {name: (response.status_code, response.content) for name, response in attempts.items()}
    assert {status for status, _ in bodies.values()} == {401}
    assert len({body for _, body in bodies.values()}) == 1, bodies
    assert attempts["unknown"].headers["content-type"] == "application/problem+json"
    assert attempts["unknown"].headers["www-authenticate"].startswith("Bearer")
    traced = api.as_(None).get("/api/v1/me", headers={"X-Request-ID": "probe-401"})
    assert traced.headers.get_list("x-request-id") == ["probe-401"], "even a 401 can be traced, once"


def test_a_deactivated_users_keys_stop_working(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = f"/api/v1/users/{world.operator.user_id}"
    etag = admin.get(path).headers["ETag"]
    assert admin.patch(path, {"is_active": False}, headers={"If-Match": etag}).status_code == 200
    assert api.as_(world.operator).get("/api/v1/me").status_code == 401


def test_key_is_shown_once_and_stored_only_as_a_hash(world: World, api: ApiFactory, db: Database) -> None:
    admin = api.as_(world.admin)
    created = admin.post("/api/v1/api-keys", {"name": "ratings integration", "user_id": str(world.department.user_id)})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("opc_")
    assert body["prefix"] == key[:12]

    shown_later = admin.get(f"/api/v1/api-keys/{body['id']}").json()
    assert "key" not in shown_later
    assert all("key" not in item for item in admin.get("/api/v1/api-keys").json()["items"])

    with db.engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM api_key WHERE prefix = :p"), {"p": key[:12]}).mappings().one()
    assert key not in [str(value) for value in stored.values()]
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    # and the key works, as its owner
    assert api.with_key(key).get("/api/v1/me").json()["user"]["name"] == world.department.user_name


def test_revoking_a_revoked_key_changes_nothing(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    created = admin.post("/api/v1/api-keys", {"name": "spare", "user_id": str(world.operator.user_id)}).json()
    path = f"/api/v1/api-keys/{created['id']}"
    first = admin.act(path, "revoke")
    second = admin.act(path, "revoke")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert second.json()["status"] == "revoked"
    events = admin.get(
        "/api/v1/audit-events", params={"object_id": created["id"], "action": "api_key.revoke", "count": "true"}
    )
    assert events.json()["total"] == 1


def test_expiry_in_the_past_is_refused_naming_the_field(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).post(
        "/api/v1/api-keys",
        {"name": "x", "user_id": str(world.operator.user_id), "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "expires_at", "message": "must be in the future"}]
