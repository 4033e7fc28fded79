"""The bureau's side: a service, a budget, purchase requests in several states, a contract with an amendment
and a draft, and a service instance."""

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.fuzz.seeds.world import Known


def seed(api: ApiFactory, world: World) -> Known:
    service, contract = steps.standard_contract(api, world)
    path = f"/api/v1/contracts/{contract['id']}"
    amendment = steps.ok(api.as_(world.bureau).post(f"{path}/amendments", steps.amendment_body(contract)), 201)
    draft_request = steps.draft_request(api, world.department, steps.item(service, quantity=2))
    submitted = steps.draft_request(api, world.department, steps.item(service, quantity=3))
    steps.act(api, world.department, f"/api/v1/purchase-requests/{submitted['id']}", "submit")
    second = steps.approved_request(api, world, world.department, steps.item(service, quantity=1))
    draft_contract = steps.draft_contract(api, world, [second], number="SZSJ-2027-002")
    instance = steps.ok(
        api.as_(world.operator).post(
            "/api/v1/service-instances",
            {
                "name": "电子健康档案系统 生产环境",
                "label_matchers": {"instance": "https://ehealth.example.gov.cn"},
                "contract_id": contract["id"],
                "line_no": 1,
            },
        ),
        201,
    )
    budgets = steps.ok(api.as_(world.bureau).get("/api/v1/budgets"))["items"]
    return {
        "service_id": [service["id"]],
        "budget_id": [budget["id"] for budget in budgets],
        "request_id": [draft_request["id"], submitted["id"], second["id"], *contract["purchase_request_ids"]],
        "contract_id": [contract["id"], draft_contract["id"]],
        "number": ["1", str(amendment["number"])],
        "instance_id": [instance["id"]],
    }
