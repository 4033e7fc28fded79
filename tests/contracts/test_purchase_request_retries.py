"""Creating a purchase request is safe to retry: a client that got no answer (a connection lost, a 503 while the
database restarted) sends the same request again with the same Idempotency-Key and gets the first answer, not a
second draft. Found under load by bench.faults: a request was committed while its client got no answer."""

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def _drafts(api: ApiFactory, world: World) -> list[steps.JSON]:
    items: list[steps.JSON] = (
        api.as_(world.department).get("/api/v1/purchase-requests", params={"limit": 50}).json()["items"]
    )
    return items


def test_a_retried_creation_with_its_key_returns_the_first_draft_and_makes_no_second(
    world: World, api: ApiFactory
) -> None:
    service = steps.catalog_service(api, world)
    body = {"title": "2027年云资源", "items": [steps.item(service)]}
    as_department = api.as_(world.department)
    first = as_department.post("/api/v1/purchase-requests", body, headers={"Idempotency-Key": "pr-2027-01"})
    again = as_department.post("/api/v1/purchase-requests", body, headers={"Idempotency-Key": "pr-2027-01"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [draft["id"] for draft in _drafts(api, world)] == [first.json()["id"]]


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    as_department = api.as_(world.department)
    body = {"title": "2027年云资源", "items": [steps.item(service)]}
    as_department.post("/api/v1/purchase-requests", body, headers={"Idempotency-Key": "pr-2027-02"})
    other = as_department.post(
        "/api/v1/purchase-requests", {**body, "title": "另一份"}, headers={"Idempotency-Key": "pr-2027-02"}
    )
    assert other.status_code == 422
    assert len(_drafts(api, world)) == 1


def test_without_a_key_every_request_creates_as_before(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    body = {"title": "2027年云资源", "items": [steps.item(service)]}
    as_department = api.as_(world.department)
    assert as_department.post("/api/v1/purchase-requests", body).status_code == 201
    assert as_department.post("/api/v1/purchase-requests", body).status_code == 201
    assert len(_drafts(api, world)) == 2
