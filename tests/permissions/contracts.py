"""Permission rows: catalog, budgets, purchase requests, contracts, service instances, notifications."""

from dataclasses import replace

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.permissions.table import AUDITOR, BUREAU, DEPARTMENT, OPERATOR, READERS, Prepared, Row, only


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
    return replace(_request(world, api, submitted=True), body={"note": "同意"})


def _request_to_reject(world: World, api: ApiFactory) -> Prepared:
    return replace(_request(world, api, submitted=True), body={"reason": "不属于本年度建设范围"})


def _request_to_return(world: World, api: ApiFactory) -> Prepared:
    return replace(_request(world, api, submitted=True), body={"comment": "预算口径需调整"})


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


def _contract_to_approve(world: World, api: ApiFactory) -> Prepared:
    return replace(_draft_contract(world, api), body={"note": "经局务会审议通过"})


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


ROWS: list[Row] = [
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
    Row("GET", "/api/v1/purchase-requests/export", only(200, *READERS)),
    Row("GET", "/api/v1/purchase-requests/{request_id}", only(200, *READERS, operator=404), _submitted_request),
    Row("PUT", "/api/v1/purchase-requests/{request_id}", only(200, DEPARTMENT), _draft_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/submit", only(200, DEPARTMENT), _draft_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/approve", only(200, BUREAU), _submitted_request),
    Row("POST", "/api/v1/purchase-requests/{request_id}/reject", only(200, BUREAU), _request_to_reject),
    Row("POST", "/api/v1/purchase-requests/{request_id}/return", only(200, BUREAU), _request_to_return),
    Row("GET", "/api/v1/purchase-requests/{request_id}/history", only(200, *READERS, operator=404), _submitted_request),
    # contracts: the bureau drafts and approves; the operations center and beneficiaries read approved ones
    Row("POST", "/api/v1/contracts", only(201, BUREAU), _new_contract),
    Row("GET", "/api/v1/contracts", only(200, *READERS)),
    Row("GET", "/api/v1/contracts/{contract_id}", only(200, *READERS), _contract),
    Row("PUT", "/api/v1/contracts/{contract_id}", only(200, BUREAU), _draft_contract),
    Row("POST", "/api/v1/contracts/{contract_id}/approve", only(200, BUREAU), _contract_to_approve),
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
]
