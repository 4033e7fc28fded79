"""Prometheus rules that say mid-month that an instance burns its contract's error budget fast enough to breach:
the multi-window, multi-burn-rate alerts of the SRE workbook (as Sloth and Pyrra generate them from an SLO), one
group per approved contract, from its availability target.

The error budget is the month's: ``1 - target``. Each alert compares the error ratio over a long and a short
window with a burn rate (how many times faster than the budget allows): 1h and 5m at 14.4× (2 % of the month's
budget in an hour) and 6h and 30m at 6× page; 1d and 2h at 3× and 3d and 6h at 1× open a ticket. The short window
makes the alert stop soon after the burning stops.

The SLI is the series the SLA pull reads (the instance's ``sli_selector``, ``probe_success``: 1 up, 0 down), so the
alert and the month's report agree. Approved maintenance windows are cut out as the pull cuts them: a recording
rule copies the SLI except while ``time()`` is inside one of the instance's windows, written into the rule as unix
seconds, so the averages skip those samples. Computing the exclusions into the file (rather than a maintenance
series that OpsCenter would export) keeps the rules right when OpsCenter itself is down or unscraped, and the
file is regenerated whenever a contract or a window changes.
"""

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

SLI_RECORD = "opscenter:sla_sli:outside_maintenance"


@dataclass(frozen=True)
class BurnWindow:
    long: str
    short: str
    factor: Decimal
    severity: str  # page: critical, ticket: warning


# The SRE workbook's table, for a 30-day budget (Sloth's and Pyrra's defaults).
WINDOWS = (
    BurnWindow("1h", "5m", Decimal("14.4"), "critical"),
    BurnWindow("6h", "30m", Decimal("6"), "critical"),
    BurnWindow("1d", "2h", Decimal("3"), "warning"),
    BurnWindow("3d", "6h", Decimal("1"), "warning"),
)


@dataclass(frozen=True)
class WatchedInstance:
    id: uuid.UUID
    selector: str  # the PromQL selector of its SLI (ServiceInstance.sli_selector), values 1 or 0
    maintenance: Sequence[tuple[datetime, datetime]] = field(default_factory=tuple)  # approved, [start, end)


@dataclass(frozen=True)
class WatchedContract:
    id: uuid.UUID
    number: str
    availability_target: Decimal  # percent, e.g. 99.90
    instances: Sequence[WatchedInstance]

    @property
    def error_budget(self) -> Decimal:
        return (100 - self.availability_target) / 100


def _ratio_record(window: str) -> str:
    return f"opscenter:sla_error_ratio:rate{window}"


def _outside(selector: str, windows: Iterable[tuple[datetime, datetime]]) -> str:
    """The SLI without the samples that fall in ``windows``: ``max(...)`` drops its own labels (the rule's labels
    name the contract and the instance)."""
    inside = [
        f"(vector(time()) >= {int(start.timestamp())} and vector(time()) < {int(end.timestamp())})"
        for start, end in sorted(windows)
    ]
    sli = f"max({selector})"
    return f"{sli} unless on() ({' or '.join(inside)})" if inside else sli


def group_name(contract: WatchedContract) -> str:
    return "opscenter-sla-budget:" + re.sub(r"[^\w.-]+", "-", contract.number)


def contract_group(contract: WatchedContract) -> dict[str, Any]:
    """The rules of one contract: the SLI outside maintenance and its error ratios per window, per instance;
    the two alerts (page, ticket) over all of them."""
    budget = contract.error_budget
    rules: list[dict[str, Any]] = []
    for instance in contract.instances:
        labels = {"contract": contract.number, "contract_id": str(contract.id), "service_instance": str(instance.id)}
        rules.append(
            {"record": SLI_RECORD, "expr": _outside(instance.selector, instance.maintenance), "labels": labels}
        )
        for window in sorted({w for burn in WINDOWS for w in (burn.long, burn.short)}):
            matcher = f'{SLI_RECORD}{{service_instance="{instance.id}"}}'
            rules.append({"record": _ratio_record(window), "expr": f"1 - avg_over_time({matcher}[{window}])",
                          "labels": labels})  # fmt: skip
    for severity, name in (("critical", "OpsCenterSlaBudgetBurnFast"), ("warning", "OpsCenterSlaBudgetBurnSlow")):
        conditions = [
            f'({_ratio_record(burn.long)}{{contract_id="{contract.id}"}} > {burn.factor * budget}'
            f' and {_ratio_record(burn.short)}{{contract_id="{contract.id}"}} > {burn.factor * budget})'
            for burn in WINDOWS
            if burn.severity == severity
        ]
        rules.append(
            {
                "alert": name,
                "expr": " or ".join(conditions),
                "for": "2m" if severity == "critical" else "15m",
                "labels": {"severity": severity, "availability_target": str(contract.availability_target)},
                "annotations": {
                    "summary": "{{ $labels.contract }}: instance {{ $labels.service_instance }} burns its error budget "
                    "fast enough to breach " + str(contract.availability_target) + "% this month",
                    "description": "The error ratio of the instance's SLI, approved maintenance left out, is above "
                    + ", ".join(
                        f"{burn.factor}× the budget over {burn.long} and {burn.short}"
                        for burn in WINDOWS
                        if burn.severity == severity
                    )
                    + ". At this pace the month's availability falls below the contract's target and the statement "
                    "carries an SLA deduction.",
                    "runbook_url": f"monitoring/runbooks/{name}.md",
                },
            }
        )
    return {"name": group_name(contract), "rules": rules}


def burn_rate_rules(contracts: Iterable[WatchedContract]) -> dict[str, Any]:
    """The whole rules file: one group per contract that has instances to watch, by contract number."""
    groups = [contract_group(c) for c in sorted(contracts, key=lambda c: c.number) if c.instances]
    return {"groups": groups}
