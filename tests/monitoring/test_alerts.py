"""Every alert tells whoever is paged what it means and where its runbook is; every rule test feeds the rules series
as a real scrape delivers them; no OpsCenter metric carries a label that Prometheus owns."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from monitoring import metrics
from monitoring.metrics import RESERVED_LABELS
from tests.support import RunningServer, scrape

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "rules"
SERIES = re.compile(r"^\s*(?:[a-zA-Z_:][\w:]*)?\{(?P<labels>.*)\}\s*$")


def _alerts() -> list[dict[str, Any]]:
    return [
        rule
        for path in sorted(RULES.glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_every_alert_has_a_description_and_a_runbook_in_the_repository() -> None:
    alerts = _alerts()
    assert len(alerts) >= 16
    for alert in alerts:
        annotations = alert.get("annotations", {})
        assert annotations.get("description", "").strip(), f"{alert['alert']} has no description"
        runbook = annotations.get("runbook_url", "")
        assert runbook == f"monitoring/runbooks/{alert['alert']}.md", f"{alert['alert']}: runbook_url {runbook!r}"
        text = (ROOT / runbook).read_text()
        assert text.startswith(f"# {alert['alert']}\n"), runbook
        assert "## What to check" in text, f"{runbook} says what to check"
        assert "## What to do" in text, f"{runbook} says what to do"


def test_every_runbook_belongs_to_an_alert() -> None:
    names = {alert["alert"] for alert in _alerts()} | {"OpsCenterSlaBudgetBurnFast", "OpsCenterSlaBudgetBurnSlow"}
    assert {path.stem for path in (ROOT / "monitoring" / "runbooks").glob("*.md")} <= names


def _input_series() -> list[tuple[str, str]]:
    return [
        (path.name, series["series"])
        for path in sorted((RULES / "tests").glob("*_test.yml"))
        for test in yaml.safe_load(path.read_text())["tests"]
        for series in test["input_series"]
    ]


@pytest.mark.parametrize(("file", "series"), _input_series())
def test_rule_tests_feed_series_as_a_real_scrape_delivers_them(file: str, series: str) -> None:
    match = SERIES.match(series)
    assert match, f"{file}: {series} names its labels"
    labels = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', match.group("labels")))
    assert labels.get("job", "").startswith("opscenter"), f"{file}: {series} lacks the scrape job Prometheus adds"
    assert labels.get("instance"), f"{file}: {series} lacks the target Prometheus adds"
    assert not any(name.startswith("exported_") for name in labels), f"{file}: {series}"


def test_no_opscenter_metric_declares_a_label_prometheus_owns() -> None:
    declared = {
        value._name: set(value._labelnames) for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)
    }
    assert "opscenter_job_runs" in declared
    clashing = {name: labels & RESERVED_LABELS for name, labels in declared.items() if labels & RESERVED_LABELS}
    assert clashing == {}


def test_no_series_on_metrics_carries_a_label_prometheus_owns(server: RunningServer) -> None:
    samples = [
        sample for family in text_string_to_metric_families(scrape(server.base_url)) for sample in family.samples
    ]
    assert samples
    assert [sample for sample in samples if set(sample.labels) & RESERVED_LABELS] == []
