"""Billing: a run, an issued statement with an open dispute, an approved one with a credit note."""

from tests.billing import steps
from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.fuzz.seeds.world import Known
from tests.sla.ratings.steps import new_key


def seed(api: ApiFactory, world: World) -> Known:
    # department B's, a quarter each: the other seeds spend department A's budget
    issued, approved = (
        steps.statement_in(
            api, world, state, department=world.department_b, start="2026-01-01", end="2026-03-31",
            number=f"SZSJ-2026-95{n}", code=f"FUZZ-BILL-{n}",
        )
        for n, state in ((1, "issued"), (2, "approved"))
    )  # fmt: skip
    dispute = ok(
        api.as_(world.department_b).post(
            f"/api/v1/statements/{issued['id']}/disputes", {"line_no": 1, "reason": "可用率有误"}
        ),
        201,
    )
    ok(
        api.as_(world.bureau).post(
            f"/api/v1/statements/{approved['id']}/credit-notes",
            {"line_no": 1, "amount": "100.00", "reason": "工单复核"},
            headers={"Idempotency-Key": new_key()},
        ),
        201,
    )
    run = steps.run(api, world.bureau, "2026-01")
    return {"statement_id": [issued["id"], approved["id"]], "dispute_id": [dispute["id"]], "run_id": [run["id"]]}
