"""Everything a billing run reads from other domains, gathered in one place and in a constant number of queries:
the lines in force and their days (contracts), each line's SLA report (sla), its resolution breaches (tickets),
its instance's ratings (sla.ratings), and the contracts' ceilings.

Billing reads other domains only through their service functions, and only here. The SLA reports and the
ticket breaches come through ``Sources``, so that the run can be exercised with figures chosen by a test; the
real sources are ``SOURCES`` below: ``sla.reports.service.line_reports`` and
``operations.tickets.service.resolution_breaches``, each called once per run for all the lines.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel import Session

from billing.statements.models import SlaVerdict
from contracts.agreements import service as agreements
from contracts.agreements.activity import ActiveLine, active_lines
from contracts.instances import service as instances
from contracts.terms import Priority
from operations.tickets import service as tickets
from opscenter.timekeeping import Period
from sla.ratings import summary as ratings
from sla.reports import service as sla_reports
from sla.reports.models import LineReport

Key = tuple[uuid.UUID, int]


@dataclass(frozen=True)
class SlaFigures:
    """A line's monthly SLA report, as billing applies it."""

    status: SlaVerdict
    availability: Decimal | None
    coverage: Decimal | None
    credit_pct: Decimal
    credit_tier_below: Decimal | None
    evidence: dict[str, Any] = field(default_factory=dict)  # samples, maintenance, days missing, PromQL


@dataclass(frozen=True)
class Breach:
    """A ticket whose resolution due time passed unmet in the month."""

    ticket_id: uuid.UUID
    number: str
    priority: Priority
    resolution_due_at: datetime


@dataclass(frozen=True)
class LineScore:
    service_instance_id: uuid.UUID | None
    score: Decimal | None  # None: nobody rated the instance that month
    ratings: int


UNMEASURED = SlaFigures(SlaVerdict.INSUFFICIENT_DATA, None, None, Decimal(0), None, {"note": "no SLA report"})


@dataclass(frozen=True)
class PeriodInputs:
    period: Period
    lines: list[ActiveLine]
    sla: dict[Key, SlaFigures]
    breaches: dict[Key, list[Breach]]
    scores: dict[Key, LineScore]
    contracts: dict[uuid.UUID, agreements.BillingFacts]
    memo: dict[int, Any] = field(default_factory=dict)  # what the run derives once per terms object

    def sla_of(self, key: Key) -> SlaFigures:
        """A line without a report (no instance to measure) cannot earn a credit: insufficient data."""
        return self.sla.get(key, UNMEASURED)


class Sources(Protocol):
    """Where SLA reports and ticket breaches come from; each call answers for many lines at once."""

    def sla(
        self, session: Session, *, period: Period, keys: Collection[Key] | None, now: datetime
    ) -> dict[Key, SlaFigures]:
        """The reports of the lines ``keys``, or (None) of every line in force in ``period``."""

    def breaches(
        self, session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None
    ) -> dict[Key, list[Breach]]:
        """The breaches of the lines of ``contract_ids``, or (None) of every contract's."""


def gather(
    session: Session,
    *,
    period: Period,
    sources: Sources,
    now: datetime,
    contract_ids: Collection[uuid.UUID] | None = None,
) -> PeriodInputs:
    """Every input of a period's statements, for the contracts ``contract_ids`` (or every contract in force)."""
    lines = active_lines(session, period=period, contract_ids=contract_ids)
    keys = [line.key for line in lines]
    in_force = sorted({line.contract_id for line in lines})
    instance_of = instances.instance_ids_by_line(session, in_force)
    by_instance = ratings.instance_scores(session, service_instance_ids=set(instance_of.values()), period=period)
    scores = {}
    for key in keys:
        instance_id = instance_of.get(key)
        rated = by_instance.get(instance_id) if instance_id is not None else None
        scores[key] = LineScore(instance_id, rated.score if rated else None, rated.ratings if rated else 0)
    # A whole period is asked for as such: the sources then read every line without an IN list of thousands.
    everything = contract_ids is None
    sla = sources.sla(session, period=period, keys=None if everything else keys, now=now) if keys else {}
    breaches = (
        sources.breaches(session, period=period, contract_ids=None if everything else in_force) if in_force else {}
    )
    contracts = agreements.billing_facts(session, in_force)
    return PeriodInputs(period, lines, sla, breaches, scores, contracts)


class _Domains:
    """The real sources: the SLA domain's monthly line reports and the tickets' resolution breaches."""

    def sla(
        self, session: Session, *, period: Period, keys: Collection[Key] | None, now: datetime
    ) -> dict[Key, SlaFigures]:
        reports = sla_reports.line_reports(session, period=period, keys=keys, now=now)
        return {key: _figures(report) for key, report in reports.items()}

    def breaches(
        self, session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None
    ) -> dict[Key, list[Breach]]:
        found = tickets.resolution_breaches(session, period=period, contract_ids=contract_ids)
        return {
            key: [Breach(b.ticket_id, b.number, b.priority, b.resolution_due_at) for b in breaches]
            for key, breaches in found.items()
        }


def _figures(report: LineReport) -> SlaFigures:
    evidence = {
        "up_samples": report.up_samples,
        "samples": report.samples,
        "expected_samples": report.expected_samples,
        "maintenance_minutes": report.maintenance_minutes,
        "days_missing": report.days_missing,
        "promql": list(report.promql),
    }
    return SlaFigures(
        SlaVerdict(report.status.value),
        report.availability,
        report.coverage,
        report.credit_pct,
        report.credit_tier_below,
        evidence,
    )


SOURCES: Sources = _Domains()
