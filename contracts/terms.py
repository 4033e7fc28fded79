"""Contract terms (DESIGN §5): what a contract promises and how shortfalls are credited.

A value object stored as JSON on each contract version. Defaults are the bureau's standard terms;
validation refuses terms that would make billing ambiguous (unordered tiers, percentages outside
0–100, coefficients outside 0–1), naming the offending field.
"""

from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from opscenter.money import NonNegativeMoney
from opscenter.schemas import DECIMAL_AS_TEXT, LabeledEnum, StrictInput, decimal_parser, documented_pattern

# Percentages and coefficients travel as decimal strings of ASCII digits ("99.90"), never as numbers.
PERCENT_PATTERN = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$"
COEFFICIENT_PATTERN = r"^(1(\.0{1,4})?|0(\.[0-9]{1,4})?)$"
Percent = Annotated[
    Decimal,
    BeforeValidator(decimal_parser(PERCENT_PATTERN, example="99.90")),
    DECIMAL_AS_TEXT,
    Field(json_schema_extra=documented_pattern(PERCENT_PATTERN, example="99.90")),
]
Coefficient = Annotated[
    Decimal,
    BeforeValidator(decimal_parser(COEFFICIENT_PATTERN, example="0.97")),
    DECIMAL_AS_TEXT,
    Field(json_schema_extra=documented_pattern(COEFFICIENT_PATTERN, example="0.97")),
]


# Which clock a target's minutes run on: round the clock, or working time on the business calendar
# (opscenter.calendar.working_time). The API names it Clock (its OpenAPI schema), so the class keeps that name.
# (A comment, not a docstring: an enum's docstring becomes its schema's description.)
class Clock(LabeledEnum):
    ALWAYS = "24x7", "7×24小时"
    BUSINESS = "business", "工作时间"


class Priority(LabeledEnum):
    P1 = "P1", "紧急"
    P2 = "P2", "高"
    P3 = "P3", "中"
    P4 = "P4", "低"


# What ``_every_priority`` enforces, stated in the OpenAPI document: the keys are the priorities, each of them once.
_EVERY_PRIORITY: dict[str, Any] = {
    "propertyNames": {"enum": [priority.value for priority in Priority]},
    "required": [priority.value for priority in Priority],
}


class _Strict(StrictInput):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreditTier(_Strict):
    below: Percent = Field(description="Applies when availability is below this percentage")
    credit_pct: Percent = Field(description="Share of the line's base credited back")


class RatingTier(_Strict):
    min_score: Annotated[int, Field(ge=0, le=100)]
    coefficient: Coefficient


class TicketTarget(_Strict):
    response_minutes: Annotated[int, Field(gt=0)]
    resolution_minutes: Annotated[int, Field(gt=0)]
    clock: Clock

    @model_validator(mode="after")
    def _response_before_resolution(self) -> Self:
        if self.response_minutes > self.resolution_minutes:
            raise ValueError("response_minutes cannot exceed resolution_minutes")
        return self


def _tiers(*pairs: tuple[str, str]) -> list[CreditTier]:
    return [CreditTier(below=Decimal(below), credit_pct=Decimal(pct)) for below, pct in pairs]


def _default_targets() -> dict[Priority, TicketTarget]:
    return {
        Priority.P1: TicketTarget(response_minutes=15, resolution_minutes=240, clock=Clock.ALWAYS),
        Priority.P2: TicketTarget(response_minutes=30, resolution_minutes=480, clock=Clock.ALWAYS),
        # 1620 and 2700 minutes: three and five 9-hour working days
        Priority.P3: TicketTarget(response_minutes=240, resolution_minutes=1620, clock=Clock.BUSINESS),
        Priority.P4: TicketTarget(response_minutes=480, resolution_minutes=2700, clock=Clock.BUSINESS),
    }


def _default_penalties() -> dict[Priority, Decimal]:
    return {
        Priority.P1: Decimal("2000.00"),
        Priority.P2: Decimal("500.00"),
        Priority.P3: Decimal("0.00"),
        Priority.P4: Decimal("0.00"),
    }


class ContractTerms(_Strict):
    """The terms of a contract; every field has the bureau's standard value as its default."""

    availability_target: Percent = Decimal("99.90")
    min_coverage: Percent = Decimal("95.0")
    credit_tiers: list[CreditTier] = Field(
        default_factory=lambda: _tiers(("99.90", "5"), ("99.50", "10"), ("99.00", "20"), ("95.00", "50"))
    )
    rating_tiers: list[RatingTier] = Field(
        default_factory=lambda: [
            RatingTier(min_score=90, coefficient=Decimal("1.00")),
            RatingTier(min_score=80, coefficient=Decimal("0.97")),
            RatingTier(min_score=70, coefficient=Decimal("0.93")),
            RatingTier(min_score=0, coefficient=Decimal("0.85")),
        ]
    )
    ticket_targets: dict[Priority, TicketTarget] = Field(
        default_factory=_default_targets, json_schema_extra=_EVERY_PRIORITY
    )
    ticket_penalties: dict[Priority, NonNegativeMoney] = Field(
        default_factory=_default_penalties, json_schema_extra=_EVERY_PRIORITY
    )
    max_deduction_pct: Percent = Decimal("30")

    @field_validator("credit_tiers")
    @classmethod
    def _credit_tiers_ordered(cls, tiers: list[CreditTier]) -> list[CreditTier]:
        for higher, lower in pairwise(tiers):
            if lower.below >= higher.below:
                raise ValueError("tiers must be ordered by `below`, highest first, without repeats")
            if lower.credit_pct < higher.credit_pct:
                raise ValueError("a lower availability tier cannot credit less than a higher one")
        return tiers

    @field_validator("rating_tiers")
    @classmethod
    def _rating_tiers_ordered(cls, tiers: list[RatingTier]) -> list[RatingTier]:
        if not tiers:
            raise ValueError("at least one tier is needed")
        for higher, lower in pairwise(tiers):
            if lower.min_score >= higher.min_score:
                raise ValueError("tiers must be ordered by `min_score`, highest first, without repeats")
            if lower.coefficient > higher.coefficient:
                raise ValueError("a lower score cannot earn a higher coefficient")
        if tiers[-1].min_score != 0:
            raise ValueError("the last tier must start at min_score 0, so that every score has a coefficient")
        return tiers

    @field_validator("ticket_targets", "ticket_penalties")
    @classmethod
    def _every_priority(cls, per_priority: dict[Priority, Any]) -> dict[Priority, Any]:
        missing = [priority.value for priority in Priority if priority not in per_priority]
        if missing:
            raise ValueError(f"missing priorities: {', '.join(missing)}")
        return per_priority

    def credit_pct(self, availability: Decimal) -> Decimal:
        """The credit of the tier with the smallest ``below`` still above ``availability``; 0 when none."""
        applicable = [tier for tier in self.credit_tiers if availability < tier.below]
        return min(applicable, key=lambda tier: tier.below).credit_pct if applicable else Decimal(0)

    def coefficient(self, score: int) -> Decimal:
        """The coefficient of the tier with the largest ``min_score`` not above ``score``."""
        return max((t for t in self.rating_tiers if t.min_score <= score), key=lambda t: t.min_score).coefficient

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
