"""Who reads what on ``/metrics``. The process's own metrics (requests, jobs, the scheduler, the audit backlog) are
open, as a load balancer or any Prometheus needs them; the business figures (a department's budget and spend, SLA,
ratings, tickets, statements), which ``GET /budgets`` refuses to the operations center and to other departments,
go only to a scraper sending the metrics token. monitoring/prometheus.yml, run by a real Prometheus, sends it."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from opscenter.app import create_app
from opscenter.settings import Settings
from opscenter.timekeeping import today
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.contracts import steps as contracts
from tests.factories import DEPARTMENT_A, World
from tests.prometheus import Prometheus
from tests.support import METRICS_TOKEN, RunningServer, scrape

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
BUSINESS = (
    "opscenter_budget_yuan",
    "opscenter_budget_committed_yuan",
    "opscenter_tickets_open",
    "opscenter_statements",
)


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


@pytest.fixture
def a_budget(world: World, api: ApiFactory) -> str:
    """A budget of world.department this fiscal year: its name is on /metrics only for the metrics token."""
    contracts.budget(api, world, world.department, today().year, "1200000.00")
    return DEPARTMENT_A


def test_without_credentials_metrics_are_the_process_s_own_and_name_no_department(
    server: RunningServer, a_budget: str, api: ApiFactory, world: World
) -> None:
    assert api.as_(world.operator).get("/api/v1/budgets").status_code == 403, "the figure is the bureau's to read"
    loopback.get(f"{server.base_url}/health")
    anonymous = scrape(server.base_url, token=None)
    families = _families(anonymous)
    assert "opscenter_http_requests" in families
    assert "opscenter_build_info" in families
    assert "opscenter_audit_seal_lag_seconds" in families
    assert not set(BUSINESS) & set(families), "no business figure, not even its name"
    assert a_budget not in anonymous
    assert families["opscenter_metrics_business_figures"] == [({}, 0.0)]


def test_the_metrics_token_adds_the_business_figures(server: RunningServer, a_budget: str) -> None:
    families = _families(scrape(server.base_url))
    assert set(BUSINESS) <= set(families)
    assert ({"department": a_budget}, 1_200_000.0) in families["opscenter_budget_yuan"]
    assert families["opscenter_metrics_business_figures"] == [({}, 1.0)]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-the-token-at-all", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", "Bearer"],
)
def test_any_other_credential_is_a_401_and_shows_nothing(
    server: RunningServer, a_budget: str, authorization: str
) -> None:
    response = loopback.get(f"{server.base_url}/metrics", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="opscenter-metrics"'
    assert a_budget not in response.text
    assert "opscenter_" not in response.text


def test_an_api_key_is_not_the_metrics_token(server: RunningServer, world: World, a_budget: str) -> None:
    response = loopback.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {world.admin.key}"})
    assert response.status_code == 401
    assert a_budget not in response.text


def test_without_a_metrics_token_set_no_scraper_gets_the_business_figures(database_url: str, a_budget: str) -> None:
    settings = make_settings(database_url, metrics_token=None)
    with RunningServer(create_app(settings)) as server:
        bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        assert loopback.get(f"{server.base_url}/metrics", headers=bearer).status_code == 401
        anonymous = scrape(server.base_url, token=None)
    assert a_budget not in anonymous
    assert "opscenter_budget_yuan" not in anonymous


@pytest.mark.parametrize("token", ["short", "with a space in it, long enough"])
def test_a_weak_metrics_token_is_refused_at_startup(database_url: str, token: str) -> None:
    with pytest.raises(ValueError, match="at least 16 characters, without spaces"):
        Settings(database_url=database_url, metrics_token=token)


@pytest.fixture
def prometheus(tmp_path: Path, server: RunningServer) -> Iterator[Prometheus]:
    """A real Prometheus running monitoring/prometheus.yml as committed (its opscenter job, credentials file and
    all), pointed at the test server, scraping every second; beside it, an anonymous job on the same target."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    target = server.base_url.removeprefix("http://")
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config.pop("rule_files")
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "opscenter"]
    job["static_configs"] = [{"targets": [target]}]
    anonymous = {key: value for key, value in job.items() if key != "authorization"}
    config["scrape_configs"] = [job, {**anonymous, "job_name": "anonymous"}]
    server_root = tmp_path / "prometheus"
    running = Prometheus(server_root)
    (server_root / "prometheus.yml").write_text(yaml.safe_dump(config))
    token_file = server_root / job["authorization"]["credentials_file"]  # relative to the configuration file
    token_file.write_text(METRICS_TOKEN)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_prometheus_with_the_committed_configuration_reads_the_business_figures(
    prometheus: Prometheus, a_budget: str
) -> None:
    served = _until(prometheus, "opscenter_metrics_business_figures", jobs={"opscenter", "anonymous"})
    assert served == {"opscenter": 1.0, "anonymous": 0.0}
    budgets = _until(prometheus, "opscenter_budget_yuan", jobs={"opscenter"}, by="department")
    assert budgets == {a_budget: 1_200_000.0}
    # Scraped every second: on a busy machine one scrape may outlast that; each job was up at some point.
    up = _until(prometheus, "max_over_time(up[1m])", jobs={"opscenter", "anonymous"})
    assert up == {"opscenter": 1.0, "anonymous": 1.0}


def _until(server: Prometheus, query: str, *, jobs: set[str], by: str = "job", timeout: float = 30) -> dict[str, float]:
    """The query's values by ``by`` once every job in ``jobs`` answered it (Prometheus scrapes every second)."""
    deadline = time.monotonic() + timeout
    while True:
        result = loopback.get(f"{server.url}/api/v1/query", params={"query": query}).json()["data"]["result"]
        if {series["metric"]["job"] for series in result} >= jobs or time.monotonic() > deadline:
            return {series["metric"][by]: float(series["value"][1]) for series in result}
        time.sleep(0.5)
