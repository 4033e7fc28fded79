"""The operations floor's register: a completed handover (its assets operated), a batch waiting for inspection
and a draft batch."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.fuzz.seeds.world import Known
from tests.operations.assets import steps


def seed(api: ApiFactory, world: World) -> Known:
    completed = steps.handed_over(api, world, steps.item("FUZZ-SN-1"), steps.item("FUZZ-SN-2", kind="storage"))
    submitted = steps.batch(api, world.department, steps.item("FUZZ-SN-3"), title="第二批移交")
    steps.act(api, world.department, submitted, "submit")
    draft = steps.batch(api, world.department, steps.item("FUZZ-SN-4"), title="第三批移交")
    assets = steps.assets(api, world.bureau)
    return {
        "batch_id": [completed["id"], submitted["id"], draft["id"]],
        "asset_id": [asset["id"] for asset in assets],
    }
