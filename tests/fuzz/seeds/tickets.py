"""Tickets: an instance of department A with a new ticket, one in progress with comments, and a resolved one."""

from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.fuzz.seeds.world import Known
from tests.operations.tickets import steps


def seed(api: ApiFactory, world: World) -> Known:
    # the last quarter of 2026 only: every seed spends department A's 2026 budget
    instance = steps.instance(
        api, world, number="SZSJ-2026-903", code="FUZZ-TICKETS", start="2026-10-01", end="2026-12-31"
    )
    new = steps.open_ticket(api, world.department, instance, "P2")
    working = steps.open_ticket(api, world.operator, instance, "P1")
    steps.in_progress(api, world, working)
    comments = f"{steps.path(working)}/comments"
    ok(api.as_(world.department).post(comments, {"body": "请尽快处理。"}), 201)
    ok(api.as_(world.operator).post(comments, {"body": "内部排查记录。", "internal": True}), 201)
    resolved = steps.resolved(api, world, steps.open_ticket(api, world.department, instance, "P1"))
    return {"ticket_id": [new["id"], working["id"], resolved["id"]], "instance_id": [instance["id"]]}
