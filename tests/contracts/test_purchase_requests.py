from functools import partial

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.support import race


def _path(request: steps.JSON) -> str:
    return f"/api/v1/purchase-requests/{request['id']}"


def test_an_approved_request_commits_its_estimate_to_the_budget(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    budget = steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.draft_request(
        api, world.department, steps.item(service, quantity=20, start="2027-01-10", end="2027-12-31")
    )
    assert request["status"] == "draft"
    # January is prorated: 20 × 1500.00 × 22/31 = 21290.32; February to December: 11 × 30000.00
    assert request["estimated_total"] == "351290.32"
    submitted = steps.act(api, world.department, _path(request), "submit")
    assert (submitted["status"], submitted["status_label"]) == ("submitted", "待审批")
    approved = steps.act(api, world.bureau, _path(request), "approve")
    assert approved["status"] == "approved"
    assert approved["decided_by_id"] == str(world.bureau.user_id)
    after = api.as_(world.department).get(f"/api/v1/budgets/{budget['id']}").json()
    assert (after["committed"], after["remaining"]) == ("351290.32", "148709.68")


def test_a_returned_request_is_revised_and_resubmitted(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.draft_request(api, world.department, steps.item(service, quantity=40))
    steps.act(api, world.department, _path(request), "submit")

    no_comment = api.as_(world.bureau).act(_path(request), "return", {"comment": ""})
    assert no_comment.status_code == 422
    assert no_comment.json()["errors"][0]["field"] == "comment"
    returned = steps.act(api, world.bureau, _path(request), "return", {"comment": "数量过多，请按实际负载测算"})
    assert (returned["status"], returned["decision_note"]) == ("returned", "数量过多，请按实际负载测算")

    department = api.as_(world.department)
    revised = department.put(
        _path(request),
        {"title": "2027年云资源（修订）", "items": [steps.item(service, quantity=20)]},
        headers={"If-Match": department.get(_path(request)).headers["ETag"]},
    )
    assert revised.status_code == 200
    assert revised.json()["items"][0]["quantity"] == 20
    steps.act(api, world.department, _path(request), "submit")
    approved = steps.act(api, world.bureau, _path(request), "approve")
    assert approved["status"] == "approved"

    history = [event["action"] for event in department.get(f"{_path(request)}/history").json()["items"]]
    assert history == [
        "purchase_request.create",
        "purchase_request.submit",
        "purchase_request.return",
        "purchase_request.edit",
        "purchase_request.submit",
        "purchase_request.approve",
    ]


def test_a_submitted_or_decided_request_cannot_be_edited(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    request = steps.draft_request(api, world.department, steps.item(service))
    steps.act(api, world.department, _path(request), "submit")
    department = api.as_(world.department)
    refused = department.put(
        _path(request),
        {"title": "x", "items": [steps.item(service)]},
        headers={"If-Match": department.get(_path(request)).headers["ETag"]},
    )
    assert refused.status_code == 409
    assert "submitted" in refused.json()["detail"]


def test_rejection_needs_a_reason_and_is_final(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    request = steps.draft_request(api, world.department, steps.item(service))
    steps.act(api, world.department, _path(request), "submit")
    assert api.as_(world.bureau).act(_path(request), "reject").status_code == 422  # no body, no reason
    rejected = steps.act(api, world.bureau, _path(request), "reject", {"reason": "不属于本年度建设范围"})
    assert rejected["status_label"] == "已驳回"
    assert api.as_(world.department).act(_path(request), "submit").status_code == 409


def test_a_budget_overrun_is_refused_naming_the_shortfall_and_changes_nothing(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    budget = steps.budget(api, world, world.department, 2027, "100000.00")
    request = steps.draft_request(api, world.department, steps.item(service))  # 360000.00
    steps.act(api, world.department, _path(request), "submit")
    before = api.as_(world.auditor).get("/api/v1/audit-events", params={"count": "true"}).json()["total"]

    refused = api.as_(world.bureau).act(_path(request), "approve")
    assert refused.status_code == 409
    assert "needs 360000.00" in refused.json()["detail"]
    assert "100000.00 remaining (short by 260000.00)" in refused.json()["detail"]
    assert api.as_(world.bureau).get(_path(request)).json()["status"] == "submitted"
    assert api.as_(world.bureau).get(f"/api/v1/budgets/{budget['id']}").json()["committed"] == "0.00"
    assert api.as_(world.auditor).get("/api/v1/audit-events", params={"count": "true"}).json()["total"] == before


def test_a_request_across_new_year_needs_both_years_budgets(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    budget_2026 = steps.budget(api, world, world.department, 2026, "100000.00")
    request = steps.draft_request(
        api, world.department, steps.item(service, quantity=2, start="2026-12-01", end="2027-01-31")
    )
    steps.act(api, world.department, _path(request), "submit")
    refused = api.as_(world.bureau).act(_path(request), "approve")
    assert refused.status_code == 409
    assert "no budget for 2027" in refused.json()["detail"]

    steps.budget(api, world, world.department, 2027, "100000.00")
    steps.act(api, world.bureau, _path(request), "approve")
    assert api.as_(world.bureau).get(f"/api/v1/budgets/{budget_2026['id']}").json()["committed"] == "3000.00"


def test_two_approvals_racing_for_one_budget_cannot_both_spend_it(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    budget = steps.budget(api, world, world.department, 2027, "400000.00")
    requests = []
    for _ in range(2):  # 360000.00 each: one fits, two do not
        request = steps.draft_request(api, world.department, steps.item(service))
        steps.act(api, world.department, _path(request), "submit")
        requests.append(request)
    approvers = [api.as_(world.bureau), api.as_(world.bureau2)]
    etags = [approvers[0].get(_path(request)).headers["ETag"] for request in requests]
    results = race(
        *(
            partial(approvers[index].post, f"{_path(requests[index])}/approve", headers={"If-Match": etags[index]})
            for index in range(2)
        )
    )
    assert sorted(response.status_code for response in results) == [200, 409]
    assert api.as_(world.bureau).get(f"/api/v1/budgets/{budget['id']}").json()["committed"] == "360000.00"


def test_departments_see_only_their_own_requests(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    mine = steps.draft_request(api, world.department, steps.item(service))
    theirs = steps.draft_request(api, world.department_b, steps.item(service))
    listed = api.as_(world.department).get("/api/v1/purchase-requests").json()
    assert [row["id"] for row in listed["items"]] == [mine["id"]]
    foreign = api.as_(world.department).get(_path(theirs))
    missing = api.as_(world.department).get("/api/v1/purchase-requests/01a21ce5-662f-7bdf-87f6-32407b9e9fef")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert api.as_(world.department).post(f"{_path(theirs)}/submit", headers={"If-Match": '"1"'}).status_code == 404


def test_the_operations_center_sees_only_approved_requests(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    pending = steps.draft_request(api, world.department, steps.item(service, quantity=1))
    approved = steps.approved_request(api, world, world.department, steps.item(service, quantity=1))
    operator = api.as_(world.operator)
    assert [row["id"] for row in operator.get("/api/v1/purchase-requests").json()["items"]] == [approved["id"]]
    assert operator.get(_path(pending)).status_code == 404


def test_an_item_that_ends_before_it_starts_is_refused_naming_it(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    response = api.as_(world.department).post(
        "/api/v1/purchase-requests",
        {"title": "x", "items": [steps.item(service), steps.item(service, start="2027-05-01", end="2027-04-30")]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items.1"


def test_a_repeated_status_filter_keeps_requests_in_any_of_the_states(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    draft = steps.draft_request(api, world.department, steps.item(service))
    submitted = steps.draft_request(api, world.department, steps.item(service), title="2027年数据库")
    steps.act(api, world.department, _path(submitted), "submit")
    returned = steps.draft_request(api, world.department, steps.item(service), title="2027年存储")
    steps.act(api, world.department, _path(returned), "submit")
    steps.act(api, world.bureau, _path(returned), "return", {"comment": "请补充说明"})

    def listed(*states: str) -> set[str]:
        query = [("status", state) for state in states]
        page = steps.ok(api.as_(world.department).get("/api/v1/purchase-requests", params=query))
        return {request["id"] for request in page["items"]}

    assert listed("draft", "submitted") == {draft["id"], submitted["id"]}
    assert listed("returned") == {returned["id"]}
    assert listed() == {draft["id"], submitted["id"], returned["id"]}
