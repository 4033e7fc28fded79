"""``OPSCENTER_DATABASE_REPLICA_URL``: list pages read from the replica, single objects from the primary, and a dead
replica sends lists back to the primary. A second database stands in for the streaming replica."""

from collections.abc import Iterator

import httpx
import pytest

from migrations import MIGRATIONS
from opscenter.app import create_app
from opscenter.db import Database
from opscenter.identity.models import OrgKind
from opscenter.settings import Settings
from tests import factories, loopback
from tests.conftest import make_settings
from tests.factories import World
from tests.support import Api, RunningServer, postgres_database, wipe

pytestmark = pytest.mark.postgresql_only  # a streaming replica is PostgreSQL's

ONLY_ON_THE_REPLICA = "只在副本中的部门"


@pytest.fixture(scope="module")
def replica_url() -> Iterator[str]:
    with postgres_database("opscenter_replica") as url:
        MIGRATIONS.upgrade(make_settings(url))  # a real replica has the primary's schema by replication
        yield url


@pytest.fixture
def replica(replica_url: str) -> Iterator[Database]:
    database = Database(make_settings(replica_url))
    yield database
    database.dispose()


def _organization_names(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {item["name"] for item in answer.json()["items"]}


def test_lists_read_from_the_replica_and_single_objects_from_the_primary(
    settings: Settings, world: World, replica: Database, replica_url: str
) -> None:
    only_there = factories.organization(replica, ONLY_ON_THE_REPLICA, OrgKind.DEPARTMENT)
    app = create_app(make_settings(settings.database_url, database_replica_url=replica_url))
    try:
        with RunningServer(app) as running:
            admin = Api(running.base_url, world.admin.key)  # keys are checked on the primary
            listed = _organization_names(admin.get("/api/v1/organizations"))
            assert ONLY_ON_THE_REPLICA in listed, "the list page came from the replica"
            assert factories.BUREAU_ORG not in listed, "…and not from the primary"
            assert admin.get(f"/api/v1/organizations/{only_there}").status_code == 404, "a single object: primary"
            assert admin.get(f"/api/v1/organizations/{world.bureau.organization_id}").status_code == 200
            ready = loopback.get(f"{running.base_url}/ready").json()
            assert ready == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "replica": "ok"}}
            admin.close()
    finally:
        wipe(replica)


def test_a_dead_replica_sends_lists_to_the_primary_and_ready_says_so(settings: Settings, world: World) -> None:
    dead = "postgresql://nobody@127.0.0.1:1/replica"
    app = create_app(make_settings(settings.database_url, database_replica_url=dead, replica_retry_seconds=60))
    with RunningServer(app) as running:
        admin = Api(running.base_url, world.admin.key)
        first = admin.get("/api/v1/organizations")
        assert first.status_code == 503, "the request that met the dead replica"
        assert first.headers["Retry-After"]
        assert factories.BUREAU_ORG in _organization_names(admin.get("/api/v1/organizations")), "then the primary"
        ready = loopback.get(f"{running.base_url}/ready")
        assert ready.status_code == 200, "a replica never takes the API down"
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["replica"].startswith("unreachable")
        metrics = loopback.get(f"{running.base_url}/metrics").text
        assert 'opscenter_database_up{database="replica"} 0.0' in metrics
        admin.close()
