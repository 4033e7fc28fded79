from functools import partial

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.support import race


def _path(contract: steps.JSON) -> str:
    return f"/api/v1/contracts/{contract['id']}"


def test_purchase_to_contract_to_instance(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    steps.budget(api, world, world.department_b, 2027, "100000.00")
    health = steps.approved_request(api, world, world.department, steps.item(service, quantity=20))
    police = steps.approved_request(api, world, world.department_b, steps.item(service, quantity=2, start="2027-07-01"))

    draft = steps.draft_contract(api, world, [health, police])
    assert (draft["status"], draft["current_version"]) == ("draft", 0)
    assert draft["supplier_id"] == str(world.operator.organization_id)
    assert [(line["line_no"], line["quantity"], line["unit_price"]) for line in draft["lines"]] == [
        (1, 20, "1500.00"),
        (2, 2, "1500.00"),
    ]
    assert draft["total_value"] == "378000.00"  # 20 × 1500 × 12 + 2 × 1500 × 6
    assert draft["terms"]["credit_tiers"][1] == {"below": "99.50", "credit_pct": "10"}
    assert api.as_(world.operator).get(_path(draft)).status_code == 404, "drafts stay inside the bureau"

    approved = steps.act(api, world.bureau2, _path(draft), "approve")
    assert (approved["status"], approved["status_label"], approved["current_version"]) == ("approved", "已生效", 1)

    operator = api.as_(world.operator)
    instances = []
    for line_no, host in ((1, "https://ehealth.example.gov.cn"), (2, "https://police.example.gov.cn")):
        created = operator.post(
            "/api/v1/service-instances",
            {
                "contract_id": approved["id"],
                "line_no": line_no,
                "name": f"实例{line_no}",
                "label_matchers": {"instance": host},
            },
        )
        assert created.status_code == 201, created.text
        instances.append(created.json())
    assert instances[0]["department_id"] == str(world.department.organization_id)
    assert instances[0]["sli_selector"] == 'probe_success{instance="https://ehealth.example.gov.cn"}'

    # each department sees its own line and its own instance, and nothing of the other's
    health_view = api.as_(world.department).get(_path(approved)).json()
    assert [line["line_no"] for line in health_view["lines"]] == [1]
    assert health_view["total_value"] == "360000.00"
    assert health_view["purchase_request_ids"] == [health["id"]]
    police_instances = api.as_(world.department_b).get("/api/v1/service-instances").json()["items"]
    assert [instance["line_no"] for instance in police_instances] == [2]
    assert api.as_(world.department_b).get(f"/api/v1/service-instances/{instances[0]['id']}").status_code == 404


def test_the_creator_cannot_approve_their_own_contract(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    draft = steps.draft_contract(api, world, [request], by=world.bureau)
    refused = api.as_(world.bureau).act(_path(draft), "approve")
    assert refused.status_code == 403
    assert "second bureau user" in refused.json()["detail"]
    assert api.as_(world.bureau).get(_path(draft)).json()["status"] == "draft"


def test_two_approvers_racing_get_one_success_and_one_412(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    draft = steps.draft_contract(api, world, [request])
    # a third bureau user drafted nothing: bureau drafted it, so bureau2 and a new colleague race to approve
    third = (
        api.as_(world.admin)
        .post(
            "/api/v1/users",
            {"name": "zhou.hui", "role": "bureau", "organization_id": str(world.bureau.organization_id)},
        )
        .json()
    )
    third_key = api.as_(world.admin).post("/api/v1/api-keys", {"name": "t", "user_id": third["id"]}).json()["key"]
    racers = [api.as_(world.bureau2), api.with_key(third_key)]
    etag = racers[0].get(_path(draft)).headers["ETag"]
    results = race(*(partial(racer.post, f"{_path(draft)}/approve", headers={"If-Match": etag}) for racer in racers))
    assert sorted(response.status_code for response in results) == [200, 412]
    events = api.as_(world.auditor).get(
        "/api/v1/audit-events", params={"object_id": draft["id"], "action": "contract.approve", "count": "true"}
    )
    assert events.json()["total"] == 1


def _refusal(api: ApiFactory, world: World, body: steps.JSON) -> list[str]:
    response = api.as_(world.bureau).post("/api/v1/contracts", body)
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


def test_invalid_contracts_are_refused_naming_the_field_and_nothing_is_created(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    body = steps.contract_body([request])
    line = {
        "service_id": service["id"],
        "department_id": str(world.department.organization_id),
        "quantity": 20,
        "unit_price": "1500.00",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
    }

    unordered = {"credit_tiers": [{"below": "99.0", "credit_pct": "20"}, {"below": "99.9", "credit_pct": "5"}]}
    assert _refusal(api, world, {**body, "terms": unordered}) == ["terms.credit_tiers"]
    too_generous = {"rating_tiers": [{"min_score": 0, "coefficient": "1.2"}]}
    assert _refusal(api, world, {**body, "terms": too_generous}) == ["terms.rating_tiers.0.coefficient"]
    outside = {**line, "end_date": "2028-01-31"}
    assert _refusal(api, world, {**body, "lines": [line, outside]}) == ["lines.1.end_date"]
    early = {**line, "start_date": "2026-12-01"}
    assert _refusal(api, world, {**body, "lines": [early]}) == ["lines.0.start_date"]
    assert _refusal(api, world, {**body, "ceiling": "359999.99"}) == ["ceiling"]
    assert _refusal(api, world, {**body, "procurement_method": "handshake"}) == ["procurement_method"]
    assert api.as_(world.bureau).get("/api/v1/contracts").json()["items"] == []


def test_a_negotiated_price_and_custom_terms(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    line = {
        "service_id": service["id"],
        "department_id": str(world.department.organization_id),
        "quantity": 20,
        "unit_price": "1350.00",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
    }
    draft = steps.draft_contract(
        api,
        world,
        [request],
        lines=[line],
        ceiling="324000.00",
        procurement_method="single_source",
        terms={"availability_target": "99.95", "max_deduction_pct": "20"},
    )
    assert (draft["lines"][0]["unit_price"], draft["total_value"]) == ("1350.00", "324000.00")
    assert draft["procurement_method_label"] == "单一来源"
    assert (draft["terms"]["availability_target"], draft["terms"]["max_deduction_pct"]) == ("99.95", "20")
    assert draft["terms"]["ticket_penalties"]["P1"] == "2000.00", "what is not stated keeps its default"


def test_a_request_feeds_one_contract_until_its_draft_is_discarded(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    first = steps.draft_contract(api, world, [request])
    again = api.as_(world.bureau).post("/api/v1/contracts", steps.contract_body([request], number="SZSJ-2027-002"))
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "purchase_request_ids.0"

    discarded = steps.act(api, world.bureau, _path(first), "discard")
    assert discarded["status"] == "discarded"
    assert api.as_(world.bureau).get(f"/api/v1/purchase-requests/{request['id']}").json()["contract_id"] is None
    assert (
        api.as_(world.bureau)
        .post("/api/v1/contracts", steps.contract_body([request], number="SZSJ-2027-002"))
        .status_code
        == 201
    )


def test_a_draft_is_rewritten_until_it_is_approved_then_frozen(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    draft = steps.draft_contract(api, world, [request])
    bureau = api.as_(world.bureau)
    update = {k: v for k, v in steps.contract_body([request]).items() if k != "purchase_request_ids"}
    rewritten = bureau.put(
        _path(draft),
        {**update, "title": "2027年政务云资源服务合同（修订）"},
        headers={"If-Match": bureau.get(_path(draft)).headers["ETag"]},
    )
    assert rewritten.status_code == 200, rewritten.text
    assert rewritten.json()["title"].endswith("（修订）")
    assert rewritten.json()["lines"][0]["line_no"] == 1

    steps.act(api, world.bureau2, _path(draft), "approve")
    frozen = bureau.put(_path(draft), update, headers={"If-Match": bureau.get(_path(draft)).headers["ETag"]})
    assert frozen.status_code == 409


def test_terminating_a_contract(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    outside = api.as_(world.bureau).act(_path(contract), "terminate", {"terminated_on": "2028-03-01", "reason": "x"})
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "terminated_on"
    ended = steps.act(
        api, world.bureau, _path(contract), "terminate", {"terminated_on": "2027-06-30", "reason": "机构改革"}
    )
    assert (ended["status"], ended["terminated_on"], ended["termination_reason"]) == (
        "terminated",
        "2027-06-30",
        "机构改革",
    )


def test_department_b_gets_404_on_department_as_contract(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    other = api.as_(world.department_b)
    foreign = other.get(_path(contract))
    missing = other.get("/api/v1/contracts/01a21ce5-662f-7bdf-87f6-32407b9e9fef")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert other.get(f"{_path(contract)}/versions").status_code == 404
    assert other.get(f"{_path(contract)}/history").status_code == 404
    assert other.get("/api/v1/contracts").json()["items"] == []
