"""The burn-rate rules come from the database: one group per approved contract, its target in force, its instances'
SLI selectors, its approved maintenance windows cut out; `opscenter monitoring rules` writes them and the worker's
job keeps the file current."""

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from opscenter.cli import main
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from opscenter.settings import get_settings
from opscenter.timekeeping import utcnow
from sla.budget.jobs import JOBS
from sla.budget.service import rules_text
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.prometheus import binaries, refusing_url


def _approved_window(api: ApiFactory, world: World, instance: dict[str, Any]) -> tuple[datetime, datetime]:
    starts = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    ends = starts + timedelta(hours=2)
    body = {"service_instance_ids": [instance["id"]], "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
            "reason": "数据库主备切换演练"}  # fmt: skip
    proposed = contracts.ok(api.as_(world.operator).post("/api/v1/maintenance-windows", body), 201)
    contracts.ok(api.as_(world.bureau).act(f"/api/v1/maintenance-windows/{proposed['id']}", "approve", {}))
    return starts, ends


def test_each_approved_contract_is_a_group_with_its_target_its_selectors_and_its_windows_cut_out(
    api: ApiFactory, world: World, db: Database
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world)
    starts, ends = _approved_window(api, world, instance)
    (group,) = yaml.safe_load(rules_text(db))["groups"]
    assert group["name"] == "opscenter-sla-budget:SZSJ-2026-001"
    sli = group["rules"][0]
    assert sli["labels"] == {"contract": "SZSJ-2026-001", "contract_id": contract["id"],
                             "service_instance": instance["id"]}  # fmt: skip
    assert sli["expr"].startswith(f"max({instance['sli_selector']}) unless on()")
    assert f"vector(time()) >= {int(starts.timestamp())} and vector(time()) < {int(ends.timestamp())}" in sli["expr"]
    (fast,) = [rule for rule in group["rules"] if rule.get("alert") == "OpsCenterSlaBudgetBurnFast"]
    assert "> 0.0144" in fast["expr"], "14.4x the budget of 99.90 %"
    assert fast["labels"]["availability_target"] == "99.90"


def test_the_command_writes_a_file_prometheus_accepts(
    api: ApiFactory, world: World, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    contracts.provisioned_contract(api, world)
    monkeypatch.setenv("OPSCENTER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    output = tmp_path / "sla-budget.yml"
    try:
        done = CliRunner().invoke(main, ["monitoring", "rules", "--output", str(output)])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert "1 contract group(s)" in done.output
    _, promtool = binaries()
    checked = subprocess.run([promtool, "check", "rules", str(output)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_worker_rewrites_the_file_when_a_window_is_approved_and_only_then(
    api: ApiFactory, world: World, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    _, (instance,) = contracts.provisioned_contract(api, world)
    output = tmp_path / "sla-budget.yml"
    monkeypatch.setenv("OPSCENTER_SLA_BUDGET_RULES_FILE", str(output))
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_URL", refusing_url())
    get_settings.cache_clear()
    try:
        assert run_job(db, JOBS[0], system_actor=Actor.of_job) == "ok"
        first = output.read_text()
        assert "Prometheus did not reload" in caplog.text, "a Prometheus away is said, not fatal"
        written = output.stat().st_mtime_ns
        assert run_job(db, JOBS[0], system_actor=Actor.of_job) == "ok"
        assert output.stat().st_mtime_ns == written, "unchanged: not rewritten, no reload"
        _approved_window(api, world, instance)
        assert run_job(db, JOBS[0], system_actor=Actor.of_job) == "ok"
    finally:
        get_settings.cache_clear()
    assert "vector(time())" not in first
    assert "vector(time())" in output.read_text()
