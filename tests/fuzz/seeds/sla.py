"""SLA: a provisioned instance with a proposed maintenance window, so the window paths hit something."""

from datetime import timedelta

from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.fuzz.seeds.world import Known


def seed(api: ApiFactory, world: World) -> Known:
    # the last quarter of 2026 only: every seed spends department A's 2026 budget
    _, instance = steps.provisioned_instance(
        api, world, number="SZSJ-2026-902", code="FUZZ-SLA", start="2026-10-01", end="2026-12-31"
    )
    starts = utcnow() + timedelta(days=3)
    body = {
        "service_instance_ids": [instance["id"]],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "reason": "内核升级",
    }
    window = steps.ok(api.as_(world.operator).post("/api/v1/maintenance-windows", body), 201)
    return {"window_id": [window["id"]], "instance_id": [instance["id"]]}
