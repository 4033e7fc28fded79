"""Billing steps over HTTP, and SLA figures and ticket breaches chosen by the test.

``ChosenInputs`` stands in for the SLA reports and ticket breaches where a test is about billing's own rules
(lifecycle, disputes, visibility): it answers for the lines the run asks about, as the real services do, with
figures the test sets. The end-to-end test (test_end_to_end.py) runs with the real ones.
"""

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from billing.statements import inputs
from billing.statements.inputs import Breach, Key, SlaFigures
from billing.statements.models import SlaVerdict
from contracts.agreements.activity import active_lines
from contracts.terms import ContractTerms, Priority
from opscenter.timekeeping import Period
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import JSON, ok
from tests.factories import Identity, World

TERMS = ContractTerms()


def measured(availability: str, coverage: str = "100.0") -> SlaFigures:
    """A complete month at ``availability`` under the standard terms."""
    value = Decimal(availability)
    credit, below = TERMS.credit_pct(value), None
    applicable = [tier for tier in TERMS.credit_tiers if value < tier.below]
    if applicable:
        below = min(applicable, key=lambda tier: tier.below).below
    status = SlaVerdict.MET if value >= TERMS.availability_target else SlaVerdict.BREACHED
    evidence = {"up_samples": 43000, "samples": 44640, "expected_samples": 44640, "promql": ["probe_success"]}
    return SlaFigures(status, value, Decimal(coverage), credit, below, evidence)


LACKING = SlaFigures(SlaVerdict.INSUFFICIENT_DATA, Decimal("99.99"), Decimal("60.0"), Decimal(0), None)
PERFECT = measured("100.00")


@dataclass
class ChosenInputs:
    """SLA figures and breaches per (contract, line); lines not named are measured at 100.00 %."""

    sla_figures: dict[Key, SlaFigures] = field(default_factory=dict)
    breach_lists: dict[Key, list[Breach]] = field(default_factory=dict)
    calls: int = 0

    def sla(
        self, session: Session, *, period: Period, keys: Collection[Key] | None, now: datetime
    ) -> dict[Key, SlaFigures]:
        self.calls += 1
        lines = keys if keys is not None else [line.key for line in active_lines(session, period=period)]
        return {key: self.sla_figures.get(key, PERFECT) for key in lines}

    def breaches(
        self, session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None
    ) -> dict[Key, list[Breach]]:
        return {
            key: found for key, found in self.breach_lists.items() if contract_ids is None or key[0] in contract_ids
        }

    def set_sla(self, contract: JSON, line_no: int, figures: SlaFigures) -> None:
        self.sla_figures[(uuid.UUID(contract["id"]), line_no)] = figures

    def add_breach(self, contract: JSON, line_no: int, priority: Priority = Priority.P1, number: str = "") -> None:
        key = (uuid.UUID(contract["id"]), line_no)
        found = self.breach_lists.setdefault(key, [])
        number = number or f"GD-2026-{len(found) + 1:04d}"
        found.append(Breach(uuid.uuid4(), number, priority, datetime.fromisoformat("2026-10-20T04:00:00+00:00")))


def choose(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChosenInputs]:
    """The run (API, in this process's test server) reads these figures instead of the SLA and ticket domains."""
    sources = ChosenInputs()
    monkeypatch.setattr(inputs, "SOURCES", sources)
    yield sources


def run(api: ApiFactory, who: Any, period: str, status: int = 201) -> JSON:
    return ok(api.as_(who).post("/api/v1/billing/runs", {"period": period}), status)


def statements(api: ApiFactory, who: Any, **params: str) -> list[JSON]:
    found: list[JSON] = ok(api.as_(who).get("/api/v1/statements", params=params))["items"]
    return found


def statement_of(api: ApiFactory, who: Any, contract: JSON, period: str) -> JSON:
    found = statements(api, who, contract_id=contract["id"], period=period)
    assert len(found) == 1, found
    return read(api, who, found[0]["id"])


def read(api: ApiFactory, who: Any, statement_id: str) -> JSON:
    return ok(api.as_(who).get(f"/api/v1/statements/{statement_id}"))


def act(api: ApiFactory, who: Any, statement: JSON, action: str, body: Any = None) -> Any:
    return api.as_(who).act(f"/api/v1/statements/{statement['id']}", action, body)


def line(statement: JSON, line_no: int) -> JSON:
    found: JSON = next(item for item in statement["lines"] if item["line_no"] == line_no)
    return found


@contextmanager
def chosen_inputs() -> Iterator[ChosenInputs]:
    """``ChosenInputs`` for the length of a block, where no fixture reaches (permission rows, fuzz seeds)."""
    saved, sources = inputs.SOURCES, ChosenInputs()
    inputs.SOURCES = sources
    try:
        yield sources
    finally:
        inputs.SOURCES = saved


def statement_in(
    api: ApiFactory,
    world: World,
    state: str,
    *,
    period: str = "2026-02",
    department: Identity | None = None,
    **options: Any,
) -> JSON:
    """A statement of a contract of ``department`` (world.department when None), taken as far as ``state``
    (draft, issued, approved, paid)."""
    contract, _ = contracts.provisioned_contract(api, world, department or world.department, **options)
    with chosen_inputs():
        run(api, world.operator, period)
    statement = statement_of(api, world.bureau, contract, period)
    for step, who, body in (
        ("issued", world.operator, None),
        ("approved", world.bureau, None),
        ("paid", world.bureau, {"paid_on": "2026-03-20", "reference": "GK-0001"}),
    ):
        if statement["status"] == state:
            break
        statement = ok(act(api, who, statement, step_action[step], body))
    return statement


step_action = {"issued": "issue", "approved": "approve", "paid": "pay"}
