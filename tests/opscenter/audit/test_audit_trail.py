"""Every state change writes one event, readable at once: sealed into the chain later, listed before that."""

from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.contracts.steps import catalog_service, ok
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


def test_events_are_listed_newest_first_and_filtered(world: World, api: ApiFactory, db: Database) -> None:
    api.as_(world.admin).post("/api/v1/organizations", {"name": "市交通运输局", "kind": "department"})
    seal_backlog(db)
    api.as_(world.admin).post("/api/v1/organizations", {"name": "市水务局", "kind": "department"})
    events = _events(api, world)
    ids = [str(event["id"]) for event in events]
    assert ids == sorted(ids, reverse=True), "newest first: ids are UUIDv7, time-ordered"
    assert events[0]["changes"] == {"name": [None, "市水务局"], "kind": [None, "department"]}
    assert events[0]["seq"] is None, "the newest is not sealed yet"
    sealed = [int(str(event["seq"])) for event in events[1:]]
    assert sealed == list(range(len(events) - 1, 0, -1)), "the rest sealed in the order they were written"
    assert {event["action"] for event in _events(api, world, action="api_key.create")} == {"api_key.create"}
    naive = api.as_(world.auditor).get("/api/v1/audit-events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["errors"][0]["field"] == "since"


def test_unsealed_events_show_in_history_and_the_list_then_gain_their_place(
    world: World, api: ApiFactory, db: Database
) -> None:
    service = catalog_service(api, world)
    path = f"/api/v1/services/{service['id']}"
    operator = api.as_(world.operator)
    ok(operator.patch(path, {"list_price": "1650.00"}, headers={"If-Match": operator.get(path).headers["ETag"]}))

    history = ok(api.as_(world.department).get(f"{path}/history"))["items"]
    assert [event["action"] for event in history] == ["catalog_service.create", "catalog_service.update"]
    assert [(event["seq"], event["prev_hash"], event["hash"]) for event in history] == [(None, None, None)] * 2
    (listed,) = _events(api, world, object_id=service["id"], action="catalog_service.update")
    assert listed["seq"] is None
    assert ok(api.as_(world.auditor).get(f"/api/v1/audit-events/{listed['id']}"))["seq"] is None

    seal_backlog(db)
    sealed = ok(api.as_(world.department).get(f"{path}/history"))["items"]
    assert [event["id"] for event in sealed] == [event["id"] for event in history], "same events, same order"
    create, update = sealed
    assert update["seq"] == create["seq"] + 1
    assert update["prev_hash"] == create["hash"]
