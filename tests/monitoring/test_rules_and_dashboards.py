"""monitoring/: Prometheus accepts the configuration and the rules, the rules behave as their unit tests say, and
the rules and Grafana dashboards read only metrics that OpsCenter's ``/metrics`` offers."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import loopback
from tests.monitoring.promql_names import PROMETHEUS_SERIES, exposed_names, metric_names
from tests.support import METRICS_TOKEN, RunningServer, scrape

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "rules" / "tests").glob("*_test.yml"))
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    # Not a skip: scripts/test installs Debian's prometheus package, which brings promtool.
    assert binary is not None, "promtool is missing: apt-get install prometheus (scripts/test does it)"
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_accepts_the_configuration_every_rule_file_and_the_rules_unit_tests(tmp_path: Path) -> None:
    assert RULE_FILES, "monitoring/rules/ holds the rules"
    assert RULE_TESTS, "the rules have unit tests"
    # promtool checks that the scrape job's credentials file exists: a copy, with the token file an operator puts
    # beside it (the repository holds no token).
    shutil.copy(MONITORING / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copytree(MONITORING / "rules", tmp_path / "rules")
    unconfigured = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert unconfigured.returncode != 0
    assert "opscenter-metrics-token" in unconfigured.stdout + unconfigured.stderr, "promtool names the missing file"
    (tmp_path / "opscenter-metrics-token").write_text(METRICS_TOKEN)
    config = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr
    rules = promtool("check", "rules", *map(str, RULE_FILES))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    behaviour = promtool("test", "rules", *(path.name for path in RULE_TESTS), cwd=RULE_TESTS[0].parent)
    assert behaviour.returncode == 0, behaviour.stdout + behaviour.stderr


def _rules() -> list[dict[str, Any]]:
    return [
        rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
    ]


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # collapsed rows keep theirs inside
    return panels


def _dashboard_queries() -> dict[str, str]:
    return {
        f"{path.name}: {panel['title']} ({target['refId']})": target["expr"]
        for path in DASHBOARDS
        for panel in _panels(json.loads(path.read_text()))
        for target in panel.get("targets", [])
    }


def test_rules_and_dashboards_read_only_metrics_on_metrics(server: RunningServer) -> None:
    loopback.get(f"{server.base_url}/health")  # so that the HTTP metrics have a first sample
    offered = exposed_names(scrape(server.base_url))
    offered |= {rule["record"] for rule in _rules() if "record" in rule} | PROMETHEUS_SERIES
    queries = {rule.get("record") or rule["alert"]: rule["expr"] for rule in _rules()} | _dashboard_queries()
    used = {name: metric_names(expr) for name, expr in queries.items()}
    assert "opscenter_http_requests_total" in set().union(*used.values()), "the names are found at all"
    unknown = {where: sorted(names - offered) for where, names in used.items() if names - offered}
    assert unknown == {}


def test_dashboards_are_ready_for_grafana_provisioning() -> None:
    provisioning = yaml.safe_load((MONITORING / "dashboards" / "provisioning.yml").read_text())
    assert [provider["type"] for provider in provisioning["providers"]] == ["file"]
    assert {path.stem for path in DASHBOARDS} >= {"bureau", "operations"}
    uids = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        uids.append(dashboard["uid"])
        assert "id" not in dashboard, f"{path.name}: a provisioned dashboard has no database id"
        variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", "any Prometheus data source can be chosen"
        for panel in _panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == "${datasource}", f"{path.name}: {panel['title']}"
            assert panel["targets"], f"{path.name}: {panel['title']} queries nothing"
        ids = [panel["id"] for panel in _panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job) (rate(opscenter_http_requests_total{status_code=~"5.."}[5m]))',
            {"opscenter_http_requests_total"},
        ),
        ("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m] offset 1h)))", {"x_bucket"}),
        ("max by (department) (a) / max by (department) (b > 0) or vector(0)", {"a", "b"}),
        ("time() - max without (instance) (opscenter:job:last)", {"opscenter:job:last"}),
        ('up{job=~"opscenter.*"} == 0 and on (instance) c * 1e3', {"up", "c"}),
    ],
)
def test_metric_names_are_the_series_an_expression_reads(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
