"""Workflow actions need If-Match; a stale version gets 412; two racing approvers get one success."""

from functools import partial

from tests.conftest import ApiFactory
from tests.factories import World
from tests.support import race


def _spare_key(world: World, api: ApiFactory) -> str:
    created = api.as_(world.admin).post("/api/v1/api-keys", {"name": "spare", "user_id": str(world.operator.user_id)})
    return f"/api/v1/api-keys/{created.json()['id']}"


def test_an_action_without_if_match_is_428_and_changes_nothing(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = _spare_key(world, api)
    response = admin.post(f"{path}/revoke")
    assert response.status_code == 428
    assert response.headers["content-type"] == "application/problem+json"
    assert admin.get(path).json()["status"] == "active"


def test_a_malformed_if_match_is_400_naming_the_header(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    response = admin.post(f"{_spare_key(world, api)}/revoke", headers={"If-Match": "*"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "If-Match"


def test_a_stale_version_is_412_and_changes_nothing(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    user = f"/api/v1/users/{world.operator.user_id}"
    stale = admin.get(user).headers["ETag"]
    assert admin.patch(user, {"display_name": "赵敏"}, headers={"If-Match": stale}).status_code == 200
    again = admin.patch(user, {"display_name": "赵敏敏"}, headers={"If-Match": stale})
    assert again.status_code == 412
    assert admin.get(user).json()["display_name"] == "赵敏"


def test_two_admins_racing_on_one_action_get_one_success_and_one_412(world: World, api: ApiFactory) -> None:
    path = _spare_key(world, api)
    etag = api.as_(world.admin).get(path).headers["ETag"]
    second_admin = (
        api.as_(world.admin)
        .post(
            "/api/v1/users",
            {"name": "second.admin", "role": "admin", "organization_id": str(world.admin.organization_id)},
        )
        .json()
    )
    second_key = (
        api.as_(world.admin).post("/api/v1/api-keys", {"name": "x", "user_id": second_admin["id"]}).json()["key"]
    )
    clients = [api.as_(world.admin), api.with_key(second_key)]
    for client in clients:  # authenticate once, so both racers are warm and start together
        client.get("/api/v1/me")

    results = race(*(partial(client.post, f"{path}/revoke", headers={"If-Match": etag}) for client in clients))

    assert sorted(response.status_code for response in results) == [200, 412]
    events = api.as_(world.auditor).get(
        "/api/v1/audit-events",
        params={"object_id": path.rsplit("/", 1)[1], "action": "api_key.revoke", "count": "true"},
    )
    assert events.json()["total"] == 1, "exactly one audit event for the one change that happened"


def test_more_concurrent_writers_than_worker_threads_all_succeed(world: World, api: ApiFactory) -> None:
    """60 writers at once, more than the 40 worker threads: none may starve the transaction holding the lock."""
    writers = 60
    clients = [api.as_(world.admin) for _ in range(writers)]
    answers = race(
        *(
            partial(clients[n].post, "/api/v1/organizations", {"name": f"并发部门{n}", "kind": "department"})
            for n in range(writers)
        )
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * writers
    assert (
        api.as_(world.admin)
        .get("/api/v1/organizations", params={"kind": "department", "count": "true"})
        .json()["total"]
        == 62
    )
