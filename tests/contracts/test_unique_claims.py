"""Two requests claiming the same unique thing at the same moment: one wins (201), the other gets a 409 that names
what was taken, on both databases, and nothing is doubled. A race never surfaces as a 412 or a 500."""

from collections.abc import Callable
from functools import partial

import httpx

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.support import Api, race


def _race_twice(post: Callable[[], httpx.Response], other: Callable[[], httpx.Response]) -> list[httpx.Response]:
    return sorted(race(post, other), key=lambda response: response.status_code)


def _one_won(results: list[httpx.Response], field: str) -> None:
    assert [response.status_code for response in results] == [201, 409], [r.text for r in results]
    loser = results[1]
    assert loser.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in loser.json()["errors"]] == [field], loser.text


def _warm(*clients: Api) -> None:
    for client in clients:  # authenticate first, so both racers start their writes together
        client.get("/api/v1/me")


def test_two_contracts_drafted_from_the_same_requests_at_once_one_is_refused_naming_the_request(
    world: World, api: ApiFactory
) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    racers = [api.as_(world.bureau), api.as_(world.bureau2)]
    _warm(*racers)

    results = _race_twice(
        partial(racers[0].post, "/api/v1/contracts", steps.contract_body([request], number="SZSJ-2027-001")),
        partial(racers[1].post, "/api/v1/contracts", steps.contract_body([request], number="SZSJ-2027-002")),
    )

    _one_won(results, "purchase_request_ids.0")
    assert len(api.as_(world.bureau).get("/api/v1/contracts").json()["items"]) == 1
    claimed = api.as_(world.bureau).get(f"/api/v1/purchase-requests/{request['id']}").json()
    assert claimed["contract_id"] == results[0].json()["id"]


def test_two_contracts_with_one_number_at_once_one_is_refused_naming_the_number(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "900000.00")
    first = steps.approved_request(api, world, world.department, steps.item(service))
    second = steps.approved_request(api, world, world.department, steps.item(service, quantity=2))
    racers = [api.as_(world.bureau), api.as_(world.bureau2)]
    _warm(*racers)

    results = _race_twice(
        partial(racers[0].post, "/api/v1/contracts", steps.contract_body([first])),
        partial(racers[1].post, "/api/v1/contracts", steps.contract_body([second])),
    )

    _one_won(results, "number")
    assert len(api.as_(world.bureau).get("/api/v1/contracts").json()["items"]) == 1


def test_two_catalog_entries_with_one_code_at_once_one_is_refused_naming_the_code(
    world: World, api: ApiFactory
) -> None:
    racers = [api.as_(world.operator), api.as_(world.operator)]
    _warm(*racers)
    body = {"code": "ECS-8C16G", "name": "云服务器（8核16G）", "category": "compute", "unit": "台/月"}

    results = _race_twice(
        partial(racers[0].post, "/api/v1/services", {**body, "list_price": "2800.00"}),
        partial(racers[1].post, "/api/v1/services", {**body, "list_price": "2900.00"}),
    )

    _one_won(results, "code")
    assert len(api.as_(world.operator).get("/api/v1/services").json()["items"]) == 1


def test_two_organizations_with_one_name_at_once_one_is_refused_naming_the_name(world: World, api: ApiFactory) -> None:
    racers = [api.as_(world.admin), api.as_(world.admin)]
    _warm(*racers)
    body = {"name": "市交通运输局", "kind": "department"}

    results = _race_twice(
        partial(racers[0].post, "/api/v1/organizations", body), partial(racers[1].post, "/api/v1/organizations", body)
    )

    _one_won(results, "name")
    listed = api.as_(world.admin).get("/api/v1/organizations", params={"kind": "department"}).json()["items"]
    assert [organization["name"] for organization in listed].count("市交通运输局") == 1


def test_two_users_with_one_login_at_once_one_is_refused_naming_the_login(world: World, api: ApiFactory) -> None:
    racers = [api.as_(world.admin), api.as_(world.admin)]
    _warm(*racers)
    body = {"name": "new.colleague", "role": "department", "organization_id": str(world.department.organization_id)}

    results = _race_twice(
        partial(racers[0].post, "/api/v1/users", body), partial(racers[1].post, "/api/v1/users", body)
    )

    _one_won(results, "name")
    users = api.as_(world.admin).get("/api/v1/users", params={"organization_id": str(world.department.organization_id)})
    assert [user["name"] for user in users.json()["items"]].count("new.colleague") == 1


def test_two_budgets_for_one_department_and_year_at_once_one_is_refused_naming_the_year(
    world: World, api: ApiFactory
) -> None:
    racers = [api.as_(world.bureau), api.as_(world.bureau2)]
    _warm(*racers)
    body = {"department_id": str(world.department.organization_id), "fiscal_year": 2028}

    results = _race_twice(
        partial(racers[0].post, "/api/v1/budgets", {**body, "amount": "100000.00"}),
        partial(racers[1].post, "/api/v1/budgets", {**body, "amount": "200000.00"}),
    )

    _one_won(results, "fiscal_year")
    assert len(api.as_(world.bureau).get("/api/v1/budgets", params={"fiscal_year": 2028}).json()["items"]) == 1


def test_two_instances_for_one_contract_line_at_once_one_is_refused_naming_the_line(
    world: World, api: ApiFactory
) -> None:
    _, contract = steps.standard_contract(api, world)
    racers = [api.as_(world.operator), api.as_(world.operator)]
    _warm(*racers)

    def provision(client: Api, host: str) -> httpx.Response:
        body = {"contract_id": contract["id"], "line_no": 1, "name": host, "label_matchers": {"instance": host}}
        return client.post("/api/v1/service-instances", body)

    results = _race_twice(
        partial(provision, racers[0], "https://a.example"), partial(provision, racers[1], "https://b")
    )

    _one_won(results, "line_no")
    assert len(api.as_(world.operator).get("/api/v1/service-instances").json()["items"]) == 1
