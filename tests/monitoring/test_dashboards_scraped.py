"""Each dashboard panel's query, run by a real Prometheus that scraped a running OpsCenter (with the metrics token,
as monitoring/prometheus.yml does): it parses and returns data, or is listed below as empty in a fresh world."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import REGISTRY
from sqlmodel import Session

from operations.tickets.jobs import JOBS as TICKET_JOBS
from opscenter.audit.jobs import SEAL_JOB
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext, run_job
from opscenter.timekeeping import today
from tests import loopback
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.monitoring.test_rules_and_dashboards import DASHBOARDS, _panels
from tests.prometheus import Prometheus
from tests.support import METRICS_TOKEN, RunningServer

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"

# Empty in a world with organizations, users, one budget, a few job runs and a readiness check: nothing measured,
# rated or billed yet, and no SLA pull has failed (tests/sla shows those figures with a Prometheus full of probes).
PULL_FAILURES = "operations.json: Pull failures by kind (per hour) (A)"
EMPTY_IN_A_FRESH_WORLD = {
    "bureau.json: Availability last month (A)",
    "bureau.json: Availability this month so far (A)",
    "bureau.json: Coverage last month (A)",
    "bureau.json: Mean score by service (A)",
    "bureau.json: Ratings given (A)",
    "bureau.json: Billed per month, yuan (A)",
    PULL_FAILURES,
}


def _queries() -> dict[str, str]:
    return {
        f"{path.name}: {panel['title']} ({target['refId']})": target["expr"]
        for path in DASHBOARDS
        for panel in _panels(json.loads(path.read_text()))
        for target in panel.get("targets", [])
    }


def _pull_failed_in_this_process() -> bool:
    """Whether a test before this one, in the same worker, made an SLA pull fail: the counter is the process's, not
    the world's, and the scraped server is in this process."""
    return any(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == "opscenter_sla_pull_failures_total"
    )


def _broken(session: Session, context: JobContext[Actor]) -> None:
    raise RuntimeError("a job that fails, so that the failures panel has a series")


@pytest.fixture
def scraping(tmp_path: Path, server: RunningServer) -> Iterator[Prometheus]:
    """monitoring/prometheus.yml as committed (its opscenter job and token file), with its rules, pointed at the
    test server and scraping every second."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(MONITORING / "rules" / "*.yml")]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "opscenter"]
    job["static_configs"] = [{"targets": [server.base_url.removeprefix("http://")]}]
    config["scrape_configs"] = [job]
    running = Prometheus(tmp_path / "prometheus")
    (running.root / "prometheus.yml").write_text(yaml.safe_dump(config))
    (running.root / job["authorization"]["credentials_file"]).write_text(METRICS_TOKEN)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_every_dashboard_query_returns_data_from_a_prometheus_that_scraped_opscenter(
    world: World, api: ApiFactory, db: Database, scraping: Prometheus
) -> None:
    contracts.budget(api, world, world.department, today().year, "1200000.00")
    broken = Job(id="drill.broken", description="fails", trigger=IntervalTrigger(hours=1), run=_broken)
    for job in (SEAL_JOB, *TICKET_JOBS, broken):
        run_job(db, job, system_actor=Actor.of_job)
    assert loopback.get(f"{api.base_url}/ready").status_code == 200  # the databases' gauge
    queries = _queries()
    assert set(queries) >= EMPTY_IN_A_FRESH_WORLD, "the list names panels that exist"
    empty_here = EMPTY_IN_A_FRESH_WORLD - ({PULL_FAILURES} if _pull_failed_in_this_process() else set())
    expected = set(queries) - EMPTY_IN_A_FRESH_WORLD
    answered: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + 40
    while True:
        for where, expr in queries.items():
            response = loopback.get(f"{scraping.url}/api/v1/query", params={"query": expr}, timeout=10)
            assert response.status_code == 200, f"{where}: {expr}: {response.text}"
            answered[where] = response.json()["data"]["result"]
        empty = {where for where in expected if not answered[where]}
        if not empty or time.monotonic() > deadline:
            break
        api.as_(world.admin).get("/api/v1/me")  # traffic for the HTTP panels
        time.sleep(1)
    assert sorted(empty) == []
    assert sorted(where for where in empty_here if answered[where]) == [], "the list is no excuse"
    jobs = {series["metric"]["task"] for series in answered["operations.json: Job runs by outcome (per hour) (A)"]}
    assert {"audit.seal", "tickets.sweep", "drill.broken"} <= jobs, "one series per job, not one for the scrape job"
