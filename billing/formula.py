"""The billing formula of DESIGN §5, pure: Decimal in, Decimal out, ROUND_HALF_UP to the fen at each named step.

For each contract line and month M::

    base        = round(quantity × monthly_unit_price × active_days / days_in_M)
    sla_credit  = round(base × credit_pct / 100)            (0 when insufficient_data)
    penalties   = Σ ticket_penalties of the line's resolution breaches in M
    rating_ded  = round((base − sla_credit − penalties) × (1 − coefficient))
    cap         = round(base × max_deduction_pct / 100)
    deduction   = min(sla_credit + penalties + rating_ded, cap)
    amount      = base − deduction

Two choices the design leaves open, made here once:

- A line amended mid-month (several spans, each with its own quantity and price) has one base: the exact sum
  over its spans of ``quantity × price × days / days_in_M``, rounded once. Rounding per span would let the
  fen of each span add up to more (or less) than the month is worth.
- ``rating_ded`` applies to what is left after the credit and the penalties, never below zero: when penalties
  alone exceed the base, a poor rating does not *reduce* the deduction (the cap then decides anyway).

No float anywhere: every input is a Decimal or an int.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contracts.terms import CreditTier, RatingTier
from opscenter.money import round_yuan

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class SpanCharge:
    """Days of the month under one quantity and monthly unit price (yuan)."""

    quantity: int
    unit_price: Decimal
    days: int


@dataclass(frozen=True)
class LineCharge:
    """Every figure of a statement line, in yuan at fen precision."""

    base: Decimal
    sla_credit: Decimal
    penalties: Decimal
    rating_ded: Decimal
    cap: Decimal
    deduction: Decimal
    amount: Decimal


def base(spans: Iterable[SpanCharge], days_in_month: int) -> Decimal:
    """The prorated monthly charge of a line: the exact sum over its spans, rounded once."""
    exact = sum((Decimal(span.quantity) * span.unit_price * span.days for span in spans), ZERO)
    return round_yuan(exact / days_in_month)


def credit_pct(tiers: Sequence[CreditTier], availability: Decimal) -> tuple[Decimal, Decimal | None]:
    """(credit_pct, the tier's ``below``) of the tier with the smallest ``below`` still above ``availability``;
    (0, None) when availability is at or above every tier."""
    applicable = [tier for tier in tiers if availability < tier.below]
    if not applicable:
        return ZERO, None
    tier = min(applicable, key=lambda tier: tier.below)
    return tier.credit_pct, tier.below


def coefficient(tiers: Sequence[RatingTier], score: Decimal | None) -> Decimal:
    """The coefficient of the tier with the largest ``min_score`` not above ``score``; 1.00 when unrated."""
    if score is None:
        return ONE
    eligible = [tier for tier in tiers if tier.min_score <= score]
    if not eligible:  # terms always have a tier at 0; a negative score cannot occur
        return ONE
    return max(eligible, key=lambda tier: tier.min_score).coefficient


def charge(
    *,
    base: Decimal,
    credit_pct: Decimal | None,
    penalties: Decimal,
    coefficient: Decimal,
    max_deduction_pct: Decimal,
) -> LineCharge:
    """The figures of one line from its base. ``credit_pct`` None: insufficient data, no credit."""
    sla_credit = ZERO if credit_pct is None else round_yuan(base * credit_pct / HUNDRED)
    remainder = max(base - sla_credit - penalties, ZERO)
    rating_ded = round_yuan(remainder * (ONE - coefficient))
    cap = round_yuan(base * max_deduction_pct / HUNDRED)
    deduction = min(sla_credit + penalties + rating_ded, cap)
    return LineCharge(
        base=base,
        sla_credit=sla_credit,
        penalties=round_yuan(penalties),
        rating_ded=rating_ded,
        cap=cap,
        deduction=deduction,
        amount=base - deduction,
    )


@dataclass(frozen=True)
class Totals:
    base: Decimal
    deduction: Decimal
    amount: Decimal


def totals(lines: Iterable[LineCharge]) -> Totals:
    """A statement's totals: the sums of its lines (never computed any other way)."""
    base_sum = deduction_sum = amount_sum = ZERO
    for line in lines:
        base_sum, deduction_sum, amount_sum = (
            base_sum + line.base,
            deduction_sum + line.deduction,
            amount_sum + line.amount,
        )
    return Totals(base=base_sum, deduction=deduction_sum, amount=amount_sum)
