"""The hourly job and ``opscenter sla pull``: the same pull, scheduled or by hand, and its health on /metrics."""

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from opscenter.cli import main
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from opscenter.settings import get_settings
from sla.measurements import jobs
from tests import loopback
from tests.conftest import ApiFactory
from tests.factories import World
from tests.prometheus import Prometheus, free_port
from tests.sla import october, steps


def test_the_hourly_job_measures_the_complete_days_of_its_horizon_and_reports_on_metrics(
    api: ApiFactory,
    world: World,
    db: Database,
    prometheus: Prometheus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps.provision_october(api, world)
    settings = steps.prometheus_settings(prometheus, sla_pull_horizon_days=10)
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    (job,) = [job for job in jobs.JOBS if job.id == "sla.pull_measurements"]

    # 2026-11-01 00:10 in Shanghai: October 31st ended ten minutes ago, too recently (late samples may come)
    assert run_job(db, job, system_actor=Actor.of_job, now=datetime(2026, 10, 31, 16, 10, tzinfo=UTC)) == "ok"
    assert {day for _, day in steps.measurements(db)} == {f"2026-10-{n:02d}" for n in range(21, 31)}
    assert run_job(db, job, system_actor=Actor.of_job, now=datetime(2026, 10, 31, 16, 20, tzinfo=UTC)) == "ok"
    assert {day for _, day in steps.measurements(db)} == {f"2026-10-{n:02d}" for n in range(21, 32)}
    assert len(steps.measurements(db)) == 11 * len(october.PLANS)

    metrics = loopback.get(f"{api.base_url}/metrics").text
    assert "opscenter_sla_pull_last_success_timestamp_seconds" in metrics
    assert "opscenter_sla_pull_days_measured_total" in metrics


def test_sla_pull_does_a_month_by_hand_with_progress_and_fails_cleanly_when_prometheus_is_away(
    api: ApiFactory,
    world: World,
    db: Database,
    database_url: str,
    prometheus: Prometheus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps.provision_october(api, world)
    monkeypatch.setenv("OPSCENTER_DATABASE_URL", database_url)
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_RETRIES", "0")
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens
    get_settings.cache_clear()
    try:
        away = CliRunner().invoke(main, ["sla", "pull", "--period", "2026-10"])
        assert away.exit_code == 1
        assert "2026-10-01: unreachable" in away.output
        assert steps.measurements(db) == {}

        monkeypatch.setenv("OPSCENTER_PROMETHEUS_URL", prometheus.url)
        get_settings.cache_clear()
        done = CliRunner().invoke(main, ["sla", "pull", "--period", "2026-10"])
        again = CliRunner().invoke(main, ["sla", "pull", "--period", "2026-10"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert f"2026-10-01  {len(october.PLANS)} instances measured" in done.output
    assert (
        f"2026-10: {31 * len(october.PLANS)} instance-days over 31 days, 62 requests" in done.output
    )  # no maintenance here
    assert again.exit_code == 0, again.output
    assert "2026-10: all 31 days already measured, nothing written" in again.output
    bad = CliRunner().invoke(main, ["sla", "pull", "--period", "2026-13"])
    assert bad.exit_code == 2
    assert "--period" in bad.output
