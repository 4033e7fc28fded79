"""The permission table: every route × every role → the status that role gets.

A route the app serves but this table lacks fails ``test_every_route_is_in_the_table``; a route
whose guard admits other roles than the table says fails ``test_guards_match_the_table``. Each row
is also run for real, over HTTP, as each role.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from opscenter.app import create_app
from opscenter.auth.guards import admitted_roles
from opscenter.organizations.models import Role
from opscenter.plugin import PUBLIC_PATHS
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World

ADMIN, BUREAU, OPERATOR, DEPARTMENT, AUDITOR = (
    Role.ADMIN,
    Role.BUREAU,
    Role.OPERATOR,
    Role.DEPARTMENT,
    Role.AUDITOR,
)


@dataclass
class Prepared:
    """What a row needs to be sent: path parameters, a body, and the object whose ETag goes in If-Match."""

    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    etag_of: str | None = None


Prepare = Callable[[World, ApiFactory], Prepared]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[Role, int]
    prepare: Prepare = lambda world, api: Prepared()

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def only(status: int, *roles: Role, **others: int) -> dict[Role, int]:
    """``status`` for ``roles``, 403 for every other role, unless ``others`` (by role value) says otherwise."""
    table = {role: (status if role in roles else 403) for role in Role}
    table.update({Role(name): code for name, code in others.items()})
    return table


EVERYONE = tuple(Role)
READERS = (BUREAU, OPERATOR, DEPARTMENT, AUDITOR)  # the business roles; the platform admin is not one


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
    Row("GET", "/api/v1/audit-events/{event_id}", only(200, ADMIN, AUDITOR), _an_event),
]


# ---- contracts: catalog, budgets, purchase requests, contracts, service instances, notifications --------------------


def _service(world: World, api: ApiFactory) -> Prepared:
    service = steps.catalog_service(api, world)
    return Prepared(params={"service_id": service["id"]}, etag_of=f"/api/v1/services/{service['id']}")


def _service_update(world: World, api: ApiFactory) -> Prepared:
    return replace(_service(world, api), body={"list_price": "1600.00"})


def _budget(world: World, api: ApiFactory) -> Prepared:
    budget = steps.budget(api, world, world.department, 2027, "100000.00")
    return Prepared(
        params={"budget_id": budget["id"]}, body={"amount": "120000.00"}, etag_of=f"/api/v1/budgets/{budget['id']}"
    )


def _request(world: World, api: ApiFactory, *, submitted: bool) -> Prepared:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.draft_request(api, world.department, steps.item(service))
    path = f"/api/v1/purchase-requests/{request['id']}"
    if submitted:
        steps.act(api, world.department, path, "submit")
    body = {"title": "改", "items": [steps.item(service, quantity=2)]}
    return Prepared(params={"request_id": request["id"]}, body=body, etag_of=path)


def _draft_request(world: World, api: ApiFactory) -> Prepared:
    return _request(world, api, submitted=False)


def _submitted_request(world: World, api: ApiFactory) -> Prepared:
    return replace(_request(world, api, submitted=True), body={"note": "预算口径需调整"})


def _new_request(world: World, api: ApiFactory) -> Prepared:
    service = steps.catalog_service(api, world)
    return Prepared(body={"title": "2027年云资源", "items": [steps.item(service)]})


def _new_contract(world: World, api: ApiFactory) -> Prepared:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    return Prepared(body=steps.contract_body([request]))


def _draft_contract(world: World, api: ApiFactory) -> Prepared:
    """Drafted by the second bureau user, so that the bureau identity of the table may approve it."""
    body = _new_contract(world, api).body
    contract = steps.ok(api.as_(world.bureau2).post("/api/v1/contracts", body), 201)
    update = {key: value for key, value in body.items() if key != "purchase_request_ids"}
    return Prepared(params={"contract_id": contract["id"]}, body=update, etag_of=f"/api/v1/contracts/{contract['id']}")


def _contract(world: World, api: ApiFactory) -> Prepared:
    _, contract = steps.standard_contract(api, world)
    return Prepared(
        params={"contract_id": contract["id"], "number": "1"},
        body={"terminated_on": "2027-06-30", "reason": "业务调整"},
        etag_of=f"/api/v1/contracts/{contract['id']}",
    )


def _amendment(world: World, api: ApiFactory) -> Prepared:
    _, contract = steps.standard_contract(api, world)
    path = f"/api/v1/contracts/{contract['id']}"
    steps.ok(api.as_(world.bureau2).post(f"{path}/amendments", steps.amendment_body(contract)), 201)
    return Prepared(params={"contract_id": contract["id"], "number": "2"}, etag_of=f"{path}/versions/2")


def _amend(world: World, api: ApiFactory) -> Prepared:
    _, contract = steps.standard_contract(api, world)
    return Prepared(params={"contract_id": contract["id"]}, body=steps.amendment_body(contract))


def _new_instance(world: World, api: ApiFactory) -> Prepared:
    _, contract = steps.standard_contract(api, world)
    body = {"contract_id": contract["id"], "line_no": 1, "name": "健康档案 生产", "label_matchers": {"instance": "a"}}
    return Prepared(body=body)


def _instance(world: World, api: ApiFactory) -> Prepared:
    created = steps.ok(api.as_(world.operator).post("/api/v1/service-instances", _new_instance(world, api).body), 201)
    return Prepared(
        params={"instance_id": created["id"]},
        body={"name": "健康档案 生产环境"},
        etag_of=f"/api/v1/service-instances/{created['id']}",
    )


ROWS += [
    # catalog: the operations center keeps it, every business role reads it
    Row(
        "POST",
        "/api/v1/services",
        only(201, OPERATOR),
        lambda w, a: Prepared(
            body={
                "code": "RDS-MYSQL",
                "name": "云数据库",
                "category": "database",
                "unit": "套/月",
                "list_price": "3000.00",
            }
        ),
    ),
    Row("GET", "/api/v1/services", only(200, *READERS)),
    Row("GET", "/api/v1/services/{service_id}", only(200, *READERS), _service),
    Row("PATCH", "/api/v1/services/{service_id}", only(200, OPERATOR), _service_update),
    Row("POST", "/api/v1/services/{service_id}/retire", only(200, OPERATOR), _service),
    Row("DELETE", "/api/v1/services/{service_id}", only(204, OPERATOR), _service),
    Row("GET", "/api/v1/services/{service_id}/history", only(200, *READERS), _service),
    # budgets: the bureau sets them; a department reads its own
    Row(
        "POST",
        "/api/v1/budgets",
        only(201, BUREAU),
        lambda w, a: Prepared(
            body={"department_id": str(w.department.organization_id), "fiscal_year": 2027, "amount": "100000.00"}
        ),
    ),
    Row("GET", "/api/v1/budgets", only(200, BUREAU, DEPARTMENT, AUDITOR)),
    Row("GET", "/api/v1/budgets/{budget_id}", only(200, BUREAU, DEPARTMENT, AUDITOR), _budget),
    Row("PATCH", "/api/v1/budgets/{budget_id}", only(200, BUREAU), _budget),
    # purchase requests: departments ask, the bureau decides; the operations center sees approved ones only
    Row("POST", "/api/v1/purchase-requests", only(201, DEPARTMENT), _new_request),
    Row("GET", "/api/v1/purchase-requests", only(200, *READERS)),
    Row("GET", "/api/v1/purchase-requests/{request_id}", only(200, *READERS, operator=404), _submitted_request),
    Row("PUT", "/api/v1/purchase-requests/{request_id}", only(200, DEPARTMENT), _draft_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/submit", only(200, DEPARTMENT), _draft_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/approve", only(200, BUREAU), _submitted_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/reject", only(200, BUREAU), _submitted_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/return", only(200, BUREAU), _submitted_request),
    Row("GET", "/api/v1/purchase-requests/{request_id}/history", only(200, *READERS, operator=404), _submitted_request),
    # contracts: the bureau drafts and approves; the operations center and beneficiaries read approved ones
    Row("POST", "/api/v1/contracts", only(201, BUREAU), _new_contract),
    Row("GET", "/api/v1/contracts", only(200, *READERS)),
    Row("GET", "/api/v1/contracts/{contract_id}", only(200, *READERS), _contract),
    Row("PUT", "/api/v1/contracts/{contract_id}", only(200, BUREAU), _draft_contract),
    Row("POST", "/api/v1/contracts/{contract_id}/approve", only(200, BUREAU), _draft_contract),
    Row("POST", "/api/v1/contracts/{contract_id}/discard", only(200, BUREAU), _draft_contract),
    Row("POST", "/api/v1/contracts/{contract_id}/terminate", only(200, BUREAU), _contract),
    Row("POST", "/api/v1/contracts/{contract_id}/amendments", only(201, BUREAU), _amend),
    Row("GET", "/api/v1/contracts/{contract_id}/versions", only(200, *READERS), _contract),
    Row("GET", "/api/v1/contracts/{contract_id}/versions/{number}", only(200, *READERS), _contract),
    Row("POST", "/api/v1/contracts/{contract_id}/versions/{number}/approve", only(200, BUREAU), _amendment),
    Row("POST", "/api/v1/contracts/{contract_id}/versions/{number}/discard", only(200, BUREAU), _amendment),
    Row("GET", "/api/v1/contracts/{contract_id}/history", only(200, *READERS), _contract),
    # service instances: the operations center provisions; each department reads its own
    Row("POST", "/api/v1/service-instances", only(201, OPERATOR), _new_instance),
    Row("GET", "/api/v1/service-instances", only(200, *READERS)),
    Row("GET", "/api/v1/service-instances/{instance_id}", only(200, *READERS), _instance),
    Row("PATCH", "/api/v1/service-instances/{instance_id}", only(200, OPERATOR), _instance),
    Row("POST", "/api/v1/service-instances/{instance_id}/decommission", only(200, OPERATOR), _instance),
    # notifications: each organization reads its own
    Row("GET", "/api/v1/notifications", only(200, *EVERYONE)),
]

TABLE = {row.key: row for row in ROWS}


def _served_routes(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    served: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("OPTIONS", "HEAD"):
                    served[(method, path)] = handler
    return served


def _is_public(path: str) -> bool:
    return any(path == public or path.startswith(public + "/") for public in PUBLIC_PATHS)


@pytest.fixture(scope="module")
def served(settings: Settings) -> dict[tuple[str, str], HTTPRouteHandler]:
    return _served_routes(create_app(settings))


def test_every_route_is_in_the_table(served: dict[tuple[str, str], HTTPRouteHandler]) -> None:
    private = {key for key in served if not _is_public(key[1])}
    assert sorted(private - TABLE.keys()) == [], "routes missing from the permission table"
    assert sorted(TABLE.keys() - private) == [], "table rows for routes the app does not serve"


def test_guards_match_the_table(served: dict[tuple[str, str], HTTPRouteHandler]) -> None:
    for key, handler in served.items():
        if _is_public(key[1]):
            assert admitted_roles(handler) is None, f"{key} is public and must not carry a role guard"
            continue
        admitted = admitted_roles(handler)
        assert admitted is not None, f"{key} has no role guard"
        table_admits = {role for role, status in TABLE[key].expect.items() if status != 403}
        assert admitted == table_admits, f"{key}: guard admits {sorted(admitted)}, table says {sorted(table_admits)}"


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_route_answers_role(row: Row, role: Role, world: World, api: ApiFactory) -> None:
    prepared = row.prepare(world, api)
    headers = {}
    if prepared.etag_of is not None:
        headers["If-Match"] = api.as_(world.auditor).get(prepared.etag_of).headers["ETag"]
    client = api.as_(world.by_role(role))
    response = client.http.request(row.method, row.path.format(**prepared.params), json=prepared.body, headers=headers)
    assert response.status_code == row.expect[role], response.text


def test_unauthenticated_requests_get_401_on_every_route(
    served: dict[tuple[str, str], HTTPRouteHandler], api: ApiFactory
) -> None:
    anonymous = api.as_(None)
    for method, path in served:
        if _is_public(path):
            continue
        concrete = re.sub(r"\{number\}", "1", path)
        concrete = re.sub(r"\{\w+\}", "01a21ce5-662f-7bdf-87f6-32407b9e9fef", concrete)
        assert anonymous.http.request(method, concrete).status_code == 401, (method, path)
