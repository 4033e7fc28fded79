"""Permission rows: identity, keys and the audit trail."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions.table import ADMIN, AUDITOR, BUREAU, EVERYONE, Prepared, Row, only


def _org_of_bureau(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params={"organization_id": str(world.admin.organization_id)})


def _org_update(world: World, api: ApiFactory) -> Prepared:
    path = f"/api/v1/organizations/{world.department.organization_id}"
    return Prepared(
        params={"organization_id": str(world.department.organization_id)},
        body={"name": "市卫生健康委员会（更名）"},
        etag_of=path,
    )


def _new_user(world: World, api: ApiFactory) -> Prepared:
    return Prepared(
        body={
            "name": "new.user",
            "role": "department",
            "organization_id": str(world.department.organization_id),
        }
    )


def _user(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params={"user_id": str(world.department.user_id)})


def _user_update(world: World, api: ApiFactory) -> Prepared:
    return Prepared(
        params={"user_id": str(world.department.user_id)},
        body={"display_name": "陈杰"},
        etag_of=f"/api/v1/users/{world.department.user_id}",
    )


def _new_key(world: World, api: ApiFactory) -> Prepared:
    return Prepared(body={"name": "integration", "user_id": str(world.department.user_id)})


def _a_key(world: World, api: ApiFactory) -> Prepared:
    created = api.as_(world.admin).post("/api/v1/api-keys", {"name": "spare", "user_id": str(world.operator.user_id)})
    assert created.status_code == 201, created.text
    return Prepared(params={"api_key_id": created.json()["id"]}, etag_of=f"/api/v1/api-keys/{created.json()['id']}")


def _an_event(world: World, api: ApiFactory) -> Prepared:
    events = api.as_(world.admin).get("/api/v1/audit-events").json()["items"]
    return Prepared(params={"event_id": events[0]["id"]})


ROWS: list[Row] = [
    # organizations: a department reads only its own (the bureau's answers 404, as if absent)
    Row(
        "POST",
        "/api/v1/organizations",
        only(201, ADMIN),
        lambda w, a: Prepared(body={"name": "市交通运输局", "kind": "department"}),
    ),
    Row("GET", "/api/v1/organizations", only(200, *EVERYONE)),
    Row("GET", "/api/v1/organizations/{organization_id}", only(200, *EVERYONE, department=404), _org_of_bureau),
    Row("PATCH", "/api/v1/organizations/{organization_id}", only(200, ADMIN), _org_update),
    # users
    Row("POST", "/api/v1/users", only(201, ADMIN), _new_user),
    Row("GET", "/api/v1/users", only(200, ADMIN, AUDITOR)),
    Row("GET", "/api/v1/users/{user_id}", only(200, ADMIN, AUDITOR), _user),
    Row("PATCH", "/api/v1/users/{user_id}", only(200, ADMIN), _user_update),
    # api keys
    Row("POST", "/api/v1/api-keys", only(201, ADMIN), _new_key),
    Row("GET", "/api/v1/api-keys", only(200, ADMIN, AUDITOR)),
    Row("GET", "/api/v1/api-keys/{api_key_id}", only(200, ADMIN, AUDITOR), _a_key),
    Row("POST", "/api/v1/api-keys/{api_key_id}/revoke", only(200, ADMIN), _a_key),
    Row("GET", "/api/v1/me", only(200, *EVERYONE)),
    # audit trail
    Row("GET", "/api/v1/audit-events", only(200, ADMIN, AUDITOR)),
    Row("GET", "/api/v1/audit-events/export", only(200, ADMIN, AUDITOR)),
    Row("GET", "/api/v1/audit-events/{event_id}", only(200, ADMIN, AUDITOR), _an_event),
    # signed checkpoints of the chain's head: the bureau keeps copies too (tests/opscenter/audit/test_checkpoints.py
    # reads a real one; here none is signed, so an admitted role finds none)
    Row("GET", "/api/v1/audit-checkpoints", only(200, ADMIN, AUDITOR, BUREAU)),
    Row(
        "GET",
        "/api/v1/audit-checkpoints/{checkpoint_id}",
        only(404, ADMIN, AUDITOR, BUREAU),
        lambda w, a: Prepared(params={"checkpoint_id": "0193a000-0000-7000-8000-000000000000"}),
    ),
]
