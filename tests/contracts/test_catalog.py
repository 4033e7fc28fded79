from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def test_the_operations_center_lists_a_service_everyone_reads_it(world: World, api: ApiFactory) -> None:
    created = steps.catalog_service(api, world, code="OSS-1TB", price="120.50", category="storage", unit="TB/月")
    assert created["list_price"] == "120.50"
    assert created["category_label"] == "存储"
    assert (created["sli_kind"], created["sli_metric"], created["sli_interval_seconds"]) == (
        "availability",
        "probe_success",
        60,
    )
    assert created["default_terms"]["availability_target"] == "99.90"
    for reader in (world.bureau, world.department, world.auditor):
        assert api.as_(reader).get(f"/api/v1/services/{created['id']}").json() == created


def test_bad_catalog_input_names_its_field(world: World, api: ApiFactory) -> None:
    operator = api.as_(world.operator)
    base = {"code": "ECS-1", "name": "云服务器", "category": "compute", "unit": "台/月", "list_price": "1.00"}
    cases = {
        "code": {**base, "code": "ecs lowercase"},
        "list_price": {**base, "list_price": 1500.0},
        "category": {**base, "category": "quantum"},
        "sli_metric": {**base, "sli_metric": "probe success"},
        "default_terms.max_deduction_pct": {**base, "default_terms": {"max_deduction_pct": "150"}},
    }
    for field, body in cases.items():
        response = operator.post("/api/v1/services", body)
        assert response.status_code == 422, field
        assert [error["field"] for error in response.json()["errors"]] == [field]
    assert operator.get("/api/v1/services").json()["items"] == [], "nothing was created"


def test_a_retired_service_cannot_be_ordered_but_stays_readable(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    retired = steps.act(api, world.operator, f"/api/v1/services/{service['id']}", "retire")
    assert (retired["status"], retired["status_label"]) == ("retired", "已下架")
    refused = api.as_(world.department).post(
        "/api/v1/purchase-requests", {"title": "x", "items": [steps.item(service)]}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "items.0.service_id", "message": "service ECS-4C8G is retired"}]
    assert api.as_(world.department).get(f"/api/v1/services/{service['id']}").status_code == 200


def test_a_service_in_use_is_retired_never_deleted(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.draft_request(api, world.department, steps.item(service))
    operator = api.as_(world.operator)
    path = f"/api/v1/services/{service['id']}"
    refused = operator.delete(path, headers={"If-Match": operator.get(path).headers["ETag"]})
    assert refused.status_code == 409
    assert "retire it instead" in refused.json()["detail"]
    assert operator.get(path).status_code == 200

    unused = steps.catalog_service(api, world, code="SPARE-1")
    spare = f"/api/v1/services/{unused['id']}"
    assert operator.delete(spare, headers={"If-Match": operator.get(spare).headers["ETag"]}).status_code == 204
    assert operator.get(spare).status_code == 404


def test_every_change_of_a_catalog_entry_is_kept(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    operator = api.as_(world.operator)
    path = f"/api/v1/services/{service['id']}"
    repriced = operator.patch(path, {"list_price": "1650.00"}, headers={"If-Match": operator.get(path).headers["ETag"]})
    assert repriced.json()["list_price"] == "1650.00"
    steps.act(api, world.operator, path, "retire")
    history = api.as_(world.department).get(f"{path}/history").json()["items"]
    assert [event["action"] for event in history] == [
        "catalog_service.create",
        "catalog_service.update",
        "catalog_service.retire",
    ]
    assert history[1]["changes"] == {"list_price_fen": [150000, 165000]}


def test_a_price_change_never_reaches_a_signed_contract(world: World, api: ApiFactory) -> None:
    service, contract = steps.standard_contract(api, world)
    operator = api.as_(world.operator)
    path = f"/api/v1/services/{service['id']}"
    operator.patch(path, {"list_price": "9999.00"}, headers={"If-Match": operator.get(path).headers["ETag"]})
    after = api.as_(world.bureau).get(f"/api/v1/contracts/{contract['id']}").json()
    assert after["lines"][0]["unit_price"] == "1500.00"
    assert after["total_value"] == "360000.00"
