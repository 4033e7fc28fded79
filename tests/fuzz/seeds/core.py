"""Organizations, users, API keys and the audit trail."""

from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.fuzz.seeds.world import Known


def seed(api: ApiFactory, world: World) -> Known:
    admin = api.as_(world.admin)
    # Not the fuzzing identities' own keys or users: a revoked key or a deactivated user would lock the run out.
    keys = ok(admin.get("/api/v1/api-keys", params={"user_id": str(world.department_b.user_id)}))["items"]
    events = ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"limit": "5"}))["items"]
    return {
        "organization_id": [str(world.department.organization_id), str(world.operator.organization_id)],
        "user_id": [str(world.department_b.user_id), str(world.bureau2.user_id)],
        "api_key_id": [key["id"] for key in keys],
        "event_id": [event["id"] for event in events],
    }
