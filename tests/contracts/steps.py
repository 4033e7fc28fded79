"""The purchase → contract → instance flow, step by step over HTTP, for tests to build on."""

from typing import Any

from tests.conftest import ApiFactory
from tests.factories import World

JSON = dict[str, Any]


def ok(response: Any, status: int = 200) -> JSON:
    assert response.status_code == status, response.text
    body: JSON = response.json()
    return body


def catalog_service(
    api: ApiFactory, world: World, code: str = "ECS-4C8G", price: str = "1500.00", **extra: Any
) -> JSON:
    body = {"code": code, "name": "云服务器（4核8G）", "category": "compute", "unit": "台/月", "list_price": price}
    return ok(api.as_(world.operator).post("/api/v1/services", {**body, **extra}), 201)


def budget(api: ApiFactory, world: World, department: Any, year: int, amount: str) -> JSON:
    body = {"department_id": str(department.organization_id), "fiscal_year": year, "amount": amount}
    return ok(api.as_(world.bureau).post("/api/v1/budgets", body), 201)


def item(service: JSON, quantity: int = 20, start: str = "2027-01-01", end: str = "2027-12-31") -> JSON:
    return {
        "service_id": service["id"],
        "quantity": quantity,
        "start_date": start,
        "end_date": end,
        "justification": "电子健康档案系统上云",
    }


def draft_request(api: ApiFactory, who: Any, *items: JSON, title: str = "2027年云资源") -> JSON:
    return ok(api.as_(who).post("/api/v1/purchase-requests", {"title": title, "items": list(items)}), 201)


def act(api: ApiFactory, who: Any, path: str, action: str, body: Any = None, status: int = 200) -> JSON:
    return ok(api.as_(who).act(path, action, body), status)


def approved_request(api: ApiFactory, world: World, who: Any, *items: JSON) -> JSON:
    request = draft_request(api, who, *items)
    path = f"/api/v1/purchase-requests/{request['id']}"
    act(api, who, path, "submit")
    return act(api, world.bureau, path, "approve")


def contract_body(requests: list[JSON], number: str = "SZSJ-2027-001", **extra: Any) -> JSON:
    body = {
        "number": number,
        "title": "2027年政务云资源服务合同",
        "procurement_method": "public_tender",
        "signed_date": "2026-12-15",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "ceiling": "1000000.00",
        "purchase_request_ids": [request["id"] for request in requests],
    }
    return {**body, **extra}


def draft_contract(api: ApiFactory, world: World, requests: list[JSON], by: Any = None, **extra: Any) -> JSON:
    drafter = by or world.bureau
    return ok(api.as_(drafter).post("/api/v1/contracts", contract_body(requests, **extra)), 201)


def approved_contract(api: ApiFactory, world: World, requests: list[JSON], **extra: Any) -> JSON:
    """Drafted by one bureau user, approved by the other."""
    contract = draft_contract(api, world, requests, **extra)
    return act(api, world.bureau2, f"/api/v1/contracts/{contract['id']}", "approve")


def amendment_body(contract: JSON, **extra: Any) -> JSON:
    """Line 1 goes from its quantity to 25 from July; a new line 2 of 5 units for department B is added."""
    line = contract["lines"][0]
    continuing = {key: line[key] for key in ("service_id", "department_id", "start_date", "end_date", "unit_price")}
    body = {
        "effective_date": "2027-07-01",
        "note": "扩容：新增五台",
        "lines": [{**continuing, "line_no": 1, "quantity": 25}],
    }
    return {**body, **extra}


def standard_contract(api: ApiFactory, world: World) -> tuple[JSON, JSON]:
    """A 1500.00/month service, a 2027 budget of 500000.00 for department A, and its approved contract."""
    service = catalog_service(api, world)
    budget(api, world, world.department, 2027, "500000.00")
    request = approved_request(api, world, world.department, item(service))
    return service, approved_contract(api, world, [request])


def provisioned_contract(
    api: ApiFactory,
    world: World,
    *departments: Any,
    start: str = "2026-01-01",
    end: str = "2026-12-31",
    number: str = "SZSJ-2026-001",
    code: str = "ECS-4C8G",
) -> tuple[JSON, list[JSON]]:
    """An approved contract with one line per department (world.department when none is named), and the
    service instance the operations center provisioned for each line, in line order."""
    beneficiaries = departments or (world.department,)
    service = catalog_service(api, world, code=code)
    requests = []
    for department in beneficiaries:
        for year in range(int(start[:4]), int(end[:4]) + 1):
            created = api.as_(world.bureau).post(
                "/api/v1/budgets",
                {"department_id": str(department.organization_id), "fiscal_year": year, "amount": "1000000.00"},
            )
            assert created.status_code in (201, 409), created.text  # 409: this test gave it a budget already
        requests.append(approved_request(api, world, department, item(service, start=start, end=end)))
    signed = f"{int(start[:4]) - 1}-12-15"
    contract = approved_contract(
        api, world, requests, number=number, signed_date=signed, start_date=start, end_date=end
    )
    instances = [
        ok(
            api.as_(world.operator).post(
                "/api/v1/service-instances",
                {
                    "contract_id": contract["id"],
                    "line_no": line["line_no"],
                    "name": f"实例 {number}-{line['line_no']}",
                    "label_matchers": {"instance": f"https://{number.lower()}-{line['line_no']}.example.gov.cn"},
                },
            ),
            201,
        )
        for line in contract["lines"]
    ]
    return contract, instances


def provisioned_instance(api: ApiFactory, world: World, department: Any = None, **options: Any) -> tuple[JSON, JSON]:
    """An approved contract with one line for the department, and the instance provisioned for it."""
    contract, instances = provisioned_contract(api, world, *([department] if department else []), **options)
    return contract, instances[0]
