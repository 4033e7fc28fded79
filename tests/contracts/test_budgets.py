from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def test_the_bureau_sets_a_budget_and_the_department_reads_only_its_own(world: World, api: ApiFactory) -> None:
    budget = steps.budget(api, world, world.department, 2027, "500000.00")
    assert (budget["amount"], budget["committed"], budget["remaining"]) == ("500000.00", "0.00", "500000.00")
    steps.budget(api, world, world.department_b, 2027, "80000.00")

    own = api.as_(world.department).get("/api/v1/budgets").json()
    assert [row["id"] for row in own["items"]] == [budget["id"]]
    other = api.as_(world.department_b).get(f"/api/v1/budgets/{budget['id']}")
    assert other.status_code == 404
    assert (
        api.as_(world.bureau).get("/api/v1/budgets", params={"fiscal_year": "2027", "count": "true"}).json()["total"]
        == 2
    )


def test_one_budget_per_department_and_year(world: World, api: ApiFactory) -> None:
    steps.budget(api, world, world.department, 2027, "1.00")
    again = api.as_(world.bureau).post(
        "/api/v1/budgets",
        {"department_id": str(world.department.organization_id), "fiscal_year": 2027, "amount": "2.00"},
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "fiscal_year"


def test_a_budget_is_only_for_a_department(world: World, api: ApiFactory) -> None:
    response = api.as_(world.bureau).post(
        "/api/v1/budgets", {"department_id": str(world.operator.organization_id), "fiscal_year": 2027, "amount": "1.00"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "department_id"


def test_a_budget_cannot_drop_below_what_is_committed(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    budget = steps.budget(api, world, world.department, 2027, "500000.00")
    steps.approved_request(api, world, world.department, steps.item(service))  # 20 × 1500.00 × 12 = 360000.00
    bureau = api.as_(world.bureau)
    path = f"/api/v1/budgets/{budget['id']}"
    current = bureau.get(path)
    assert (current.json()["committed"], current.json()["remaining"]) == ("360000.00", "140000.00")
    refused = bureau.patch(path, {"amount": "359999.99"}, headers={"If-Match": current.headers["ETag"]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "field": "amount",
        "message": "approved purchases already commit 360000.00 of this budget",
    }
    lowered = bureau.patch(path, {"amount": "360000.00"}, headers={"If-Match": current.headers["ETag"]})
    assert lowered.json()["remaining"] == "0.00"
