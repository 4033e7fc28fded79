"""The burn-rate rules generated from a contract's availability target fire on a month with a fast outage, stay
silent on one within budget, and ignore an outage inside an approved maintenance window (promtool, as Prometheus
evaluates them)."""

import subprocess
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from sla.budget.rules import WatchedContract, WatchedInstance, burn_rate_rules
from tests.prometheus import binaries

CONTRACT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
INSTANCE = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
SERIES = 'probe_success{job="blackbox", instance="https://gov.example.cn"}'  # as the prober's scrape delivers it


def _contract(*maintenance: tuple[datetime, datetime]) -> WatchedContract:
    # 99.5 %: a budget of 0.5 % of the month; paging at 14.4x (7.2 % over 1h and 5m) or 6x (3 % over 6h and 30m)
    instance = WatchedInstance(INSTANCE, 'probe_success{instance="https://gov.example.cn",job="blackbox"}', maintenance)
    return WatchedContract(CONTRACT, "ZW-2026-001", Decimal("99.50"), [instance])


def _firing(alert: str, firing: bool) -> list[dict[str, Any]]:
    """The alert as it fires for the instance, its annotations as the generated rule renders them."""
    if not firing:
        return []
    (rule,) = [rule for rule in burn_rate_rules([_contract()])["groups"][0]["rules"] if rule.get("alert") == alert]
    labels = {**rule["labels"], "contract": "ZW-2026-001", "contract_id": str(CONTRACT),
              "service_instance": str(INSTANCE)}  # fmt: skip
    annotations = {
        name: text.replace("{{ $labels.contract }}", "ZW-2026-001").replace(
            "{{ $labels.service_instance }}", str(INSTANCE)
        )
        for name, text in rule["annotations"].items()
    }
    return [{"exp_labels": labels, "exp_annotations": annotations}]


def _promtool(tmp_path: Path, contract: WatchedContract, values: str, checks: list[dict[str, Any]]) -> str:
    (tmp_path / "budget.yml").write_text(yaml.safe_dump(burn_rate_rules([contract]), allow_unicode=True))
    _, promtool = binaries()
    checked = subprocess.run([promtool, "check", "rules", "budget.yml"], cwd=tmp_path, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    test = {
        "rule_files": ["budget.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [{"series": SERIES, "values": values}],
                   "alert_rule_test": checks}],
    }  # fmt: skip
    (tmp_path / "budget_test.yml").write_text(yaml.safe_dump(test))
    ran = subprocess.run([promtool, "test", "rules", "budget_test.yml"], cwd=tmp_path, capture_output=True,
                         text=True, check=False)  # fmt: skip
    return ran.stdout + ran.stderr if ran.returncode else ""


def _fast_and_slow(at: str, *, page: bool, ticket: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "eval_time": at,
            "alertname": "OpsCenterSlaBudgetBurnFast",
            "exp_alerts": _firing("OpsCenterSlaBudgetBurnFast", page),
        },
        {
            "eval_time": at,
            "alertname": "OpsCenterSlaBudgetBurnSlow",
            "exp_alerts": _firing("OpsCenterSlaBudgetBurnSlow", ticket),
        },
    ]


def test_a_fast_outage_pages_within_minutes(tmp_path: Path) -> None:
    # up for 3 hours, then down for 30 minutes: paged within minutes, the slower ticket follows
    checks = [*_fast_and_slow("2h", page=False), *_fast_and_slow("3h10m", page=True),
              *_fast_and_slow("3h25m", page=True, ticket=True)]  # fmt: skip
    assert _promtool(tmp_path, _contract(), "1x180 0x30 1x30", checks) == ""


def test_a_day_within_budget_stays_silent(tmp_path: Path) -> None:
    # a minute down every six hours: 0.28 % of the time, under the 0.5 % budget
    values = " ".join(["1x359 0"] * 4)
    checks = [check for at in ("6h5m", "12h3m", "23h") for check in _fast_and_slow(at, page=False)]
    assert _promtool(tmp_path, _contract(), values, checks) == ""


def test_an_outage_inside_an_approved_maintenance_window_is_not_burning(tmp_path: Path) -> None:
    window = (datetime(1970, 1, 1, 3, 0, tzinfo=UTC), datetime(1970, 1, 1, 5, 0, tzinfo=UTC))
    checks = [*_fast_and_slow("3h30m", page=False), *_fast_and_slow("4h50m", page=False)]
    assert _promtool(tmp_path, _contract(window), "1x180 0x120 1x60", checks) == ""
    assert _promtool(tmp_path, _contract(), "1x180 0x120 1x60", checks) != "", "without the window it pages"
