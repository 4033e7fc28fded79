"""What load balancers, Prometheus and API clients ask of every deployment."""

from collections.abc import Iterator

import pytest

from opscenter.app import create_app
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.support import RunningServer, postgres_database


def test_health_needs_no_key(server: RunningServer) -> None:
    response = loopback.get(f"{server.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_is_migrated(server: RunningServer) -> None:
    response = loopback.get(f"{server.base_url}/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


@pytest.fixture
def unmigrated_url(backend: str, tmp_sqlite_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield tmp_sqlite_url
    else:
        with postgres_database("opscenter_unmigrated") as url:
            yield url


def test_ready_is_503_on_an_unmigrated_database(unmigrated_url: str) -> None:
    with RunningServer(create_app(make_settings(unmigrated_url))) as running:
        response = loopback.get(f"{running.base_url}/ready")
        health = loopback.get(f"{running.base_url}/health")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("not migrated")
    assert health.status_code == 200, "alive, just not ready"


def test_ready_is_503_when_the_database_is_unreachable() -> None:
    settings = make_settings("postgresql://nobody@127.0.0.1:1/nowhere")
    with RunningServer(create_app(settings)) as running:
        response = loopback.get(f"{running.base_url}/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_metrics_count_requests_by_route_template_with_a_build_info(
    world: World, api: ApiFactory, server: RunningServer
) -> None:
    admin = api.as_(world.admin)
    admin.get(f"/api/v1/users/{world.operator.user_id}")
    admin.get(f"/api/v1/users/{world.department.user_id}")
    metrics = loopback.get(f"{server.base_url}/metrics").text
    assert "opscenter_build_info{" in metrics
    request_lines = [line for line in metrics.splitlines() if line.startswith("opscenter_http_requests_total{")]
    assert any('path="/api/v1/users/{user_id}"' in line and 'method="GET"' in line for line in request_lines)
    assert not any(str(world.operator.user_id) in line for line in request_lines), "ids never become labels"


def test_openapi_describes_the_api(server: RunningServer, settings: Settings) -> None:
    schema = loopback.get(f"{server.base_url}/schema/openapi.json").json()
    assert schema["info"]["title"] == "OpsCenter"
    assert "/api/v1/organizations" in schema["paths"]
    assert "/api/v1/api-keys/{api_key_id}/revoke" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
