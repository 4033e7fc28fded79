"""A statement line's figures from its inputs (the formula of billing/formula.py applied to one contract line),
and the same line recomputed when a dispute sets its availability or its score by hand."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing import formula
from billing.formula import SpanCharge
from billing.statements.inputs import Breach, LineScore, PeriodInputs, SlaFigures
from billing.statements.models import SlaVerdict, StatementLine
from contracts.agreements.activity import ActiveLine
from contracts.terms import ContractTerms, CreditTier, RatingTier
from opscenter.money import from_fen, to_fen


@dataclass(frozen=True)
class BilledTerms:
    """The part of a line's terms its figures depend on, kept on the line."""

    availability_target: Decimal
    credit_tiers: list[CreditTier]
    rating_tiers: list[RatingTier]
    max_deduction_pct: Decimal

    @classmethod
    def of(cls, terms: ContractTerms) -> "BilledTerms":
        return cls(terms.availability_target, terms.credit_tiers, terms.rating_tiers, terms.max_deduction_pct)

    @classmethod
    def load(cls, stored: dict[str, Any]) -> "BilledTerms":
        terms = ContractTerms.model_validate(stored)
        return cls.of(terms)

    def dump(self) -> dict[str, Any]:
        return {
            "availability_target": format(self.availability_target, "f"),
            "credit_tiers": [tier.model_dump(mode="json") for tier in self.credit_tiers],
            "rating_tiers": [tier.model_dump(mode="json") for tier in self.rating_tiers],
            "max_deduction_pct": format(self.max_deduction_pct, "f"),
        }


def line_values(
    inputs: PeriodInputs, line: ActiveLine, *, statement_id: uuid.UUID | None, line_id: uuid.UUID
) -> dict[str, Any]:
    """Every column of the statement line for ``line`` (insertable once ``statement_id`` is set)."""
    period = inputs.period
    last = line.spans[-1]
    base = formula.base(
        [SpanCharge(span.quantity, from_fen(span.unit_price_fen), span.days) for span in line.spans], period.days
    )
    terms = line.terms
    billed_terms = _dumped(inputs, terms)
    sla = inputs.sla_of(line.key)
    breaches = inputs.breaches.get(line.key, [])
    score = inputs.scores.get(line.key, LineScore(None, None, 0))
    penalty_of = terms.ticket_penalties
    tickets = [_ticket(breach, penalty_of[breach.priority]) for breach in breaches]
    values: dict[str, Any] = {
        "id": line_id,
        "statement_id": statement_id,
        "line_no": line.line_no,
        "department_id": line.department_id,
        "service_id": line.service_id,
        "service_instance_id": score.service_instance_id,
        "quantity": last.quantity,
        "unit_price_fen": last.unit_price_fen,
        "first_day": line.first_day,
        "last_day": line.last_day,
        "active_days": line.active_days,
        "days_in_month": period.days,
        "base_fen": to_fen(base),
        "measured_availability": sla.availability,
        "manual_availability": None,
        "coverage": sla.coverage,
        "penalties_fen": sum((to_fen(penalty_of[breach.priority]) for breach in breaches), 0),
        "tickets": tickets,
        "measured_score": score.score,
        "manual_score": None,
        "ratings": score.ratings,
        "manual_note": "",
        "evidence": {**sla.evidence, "sla_status": sla.status.value},
        "terms": billed_terms[1],
    }
    values.update(_sla_part(sla))
    values.update(_priced(values, billed_terms[0]))
    return values


def _dumped(inputs: PeriodInputs, terms: ContractTerms) -> tuple[BilledTerms, dict[str, Any]]:
    """A version's terms, as applied and as stored, made once per run (lines of a version share the object)."""
    found = inputs.memo.get(id(terms))
    if found is None or found[0] is not terms:
        billed = BilledTerms.of(terms)
        found = inputs.memo[id(terms)] = (terms, (billed, billed.dump()))
    memoized: tuple[BilledTerms, dict[str, Any]] = found[1]
    return memoized


def _ticket(breach: Breach, penalty: Decimal) -> dict[str, Any]:
    return {
        "ticket_id": str(breach.ticket_id),
        "number": breach.number,
        "priority": breach.priority.value,
        "resolution_due_at": breach.resolution_due_at.isoformat(),
        "penalty": format(penalty, "f"),
    }


def _sla_part(sla: SlaFigures) -> dict[str, Any]:
    return {
        "sla_status": sla.status,
        "availability": sla.availability,
        "credit_pct": sla.credit_pct,
        "credit_tier_below": sla.credit_tier_below,
        "insufficient_data": sla.status == SlaVerdict.INSUFFICIENT_DATA,
        "pending": sla.status == SlaVerdict.PENDING,
    }


def _manual_sla_part(availability: Decimal, terms: BilledTerms) -> dict[str, Any]:
    credit, below = formula.credit_pct(terms.credit_tiers, availability)
    status = SlaVerdict.MET if availability >= terms.availability_target else SlaVerdict.BREACHED
    return {
        "sla_status": status,
        "availability": availability,
        "credit_pct": credit,
        "credit_tier_below": below,
        "insufficient_data": False,
        "pending": False,
    }


def _priced(values: dict[str, Any], terms: BilledTerms) -> dict[str, Any]:
    """The money of a line from its SLA part, penalties and score (manual ones first)."""
    score = values["manual_score"] if values["manual_score"] is not None else values["measured_score"]
    coefficient = formula.coefficient(terms.rating_tiers, score)
    no_credit = values["insufficient_data"] or values["pending"]
    charge = formula.charge(
        base=from_fen(values["base_fen"]),
        credit_pct=None if no_credit else values["credit_pct"],
        penalties=from_fen(values["penalties_fen"]),
        coefficient=coefficient,
        max_deduction_pct=terms.max_deduction_pct,
    )
    return {
        "score": score,
        "coefficient": coefficient,
        "unrated": score is None,
        "sla_credit_fen": to_fen(charge.sla_credit),
        "rating_ded_fen": to_fen(charge.rating_ded),
        "cap_fen": to_fen(charge.cap),
        "deduction_fen": to_fen(charge.deduction),
        "amount_fen": to_fen(charge.amount),
    }


def override(
    values: dict[str, Any],
    *,
    availability: Decimal | None = None,
    score: Decimal | None = None,
    note: str = "",
) -> dict[str, Any]:
    """``values`` with a manual availability or score (a resolved dispute) applied and the money recomputed."""
    terms = BilledTerms.load(values["terms"])
    changed = dict(values)
    if availability is not None:
        changed["manual_availability"] = availability
        changed.update(_manual_sla_part(availability, terms))
    if score is not None:
        changed["manual_score"] = score
    if note:
        changed["manual_note"] = note
    changed.update(_priced(changed, terms))
    return changed


COMPUTED = [
    "sla_status",
    "availability",
    "credit_pct",
    "credit_tier_below",
    "insufficient_data",
    "pending",
    "manual_availability",
    "manual_score",
    "manual_note",
    "score",
    "coefficient",
    "unrated",
    "sla_credit_fen",
    "rating_ded_fen",
    "cap_fen",
    "deduction_fen",
    "amount_fen",
]


def recompute(line: StatementLine, *, availability: Decimal | None, score: Decimal | None, note: str) -> None:
    """Apply a dispute's resolution to a stored line, in place."""
    values = {name: getattr(line, name) for name in [*COMPUTED, "base_fen", "penalties_fen", "measured_score", "terms"]}
    for name, value in override(values, availability=availability, score=score, note=note).items():
        if name in COMPUTED:
            setattr(line, name, value)
