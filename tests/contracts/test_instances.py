import httpx

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def _provision(api: ApiFactory, world: World, contract: steps.JSON, **body: object) -> httpx.Response:
    return api.as_(world.operator).post(
        "/api/v1/service-instances", {"contract_id": contract["id"], "line_no": 1, "name": "健康档案", **body}
    )


def test_one_instance_per_contract_line(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    first = _provision(api, world, contract, label_matchers={"instance": "https://ehealth.example.gov.cn"})
    assert first.status_code == 201
    again = _provision(api, world, contract, label_matchers={"instance": "https://other"})
    assert again.status_code == 409
    no_line = _provision(api, world, contract, line_no=7, label_matchers={"instance": "x"})
    assert no_line.status_code == 422
    assert no_line.json()["errors"][0]["field"] == "line_no"


def test_label_matchers_are_checked_and_their_values_escaped(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    for matchers in ({}, {"in-stance": "x"}, {"__name__": "up"}, {"instance": ""}):
        refused = _provision(api, world, contract, label_matchers=matchers)
        assert refused.status_code == 422, matchers
        assert refused.json()["errors"][0]["field"] == "label_matchers"
    hostile = 'x"} or vector(1) #'
    created = _provision(api, world, contract, label_matchers={"instance": hostile, "job": "blackbox"})
    assert created.json()["sli_selector"] == 'probe_success{instance="x\\"} or vector(1) #",job="blackbox"}'


def test_an_instance_needs_an_approved_contract(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    draft = steps.draft_contract(api, world, [request])
    refused = _provision(api, world, draft, label_matchers={"instance": "x"})
    # the operations center does not see a draft at all: the body names a contract that is not there for it
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["contract_id"]


def test_relabel_and_decommission(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    created = _provision(api, world, contract, label_matchers={"instance": "a"}).json()
    operator = api.as_(world.operator)
    path = f"/api/v1/service-instances/{created['id']}"
    relabeled = operator.patch(
        path, {"label_matchers": {"instance": "b"}}, headers={"If-Match": operator.get(path).headers["ETag"]}
    )
    assert relabeled.json()["sli_selector"] == 'probe_success{instance="b"}'
    stopped = steps.act(api, world.operator, path, "decommission")
    assert (stopped["status"], stopped["status_label"]) == ("decommissioned", "已停用")
    assert api.as_(world.department).get(path).json()["status"] == "decommissioned"
