"""DESIGN §5 as arithmetic: the standard terms, their validation, and proration to the fen."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from contracts.pricing import cost_by_year, total_cost
from contracts.terms import ContractTerms, Priority


def test_the_standard_terms() -> None:
    terms = ContractTerms()
    assert terms.availability_target == Decimal("99.90")
    assert terms.ticket_targets[Priority.P3].resolution_minutes == 1620
    assert terms.ticket_penalties[Priority.P1] == Decimal("2000.00")
    assert terms.as_json()["credit_tiers"][0] == {"below": "99.90", "credit_pct": "5"}


@pytest.mark.parametrize(
    ("availability", "credit"),
    [("99.95", "0"), ("99.90", "0"), ("99.89", "5"), ("99.40", "10"), ("99.00", "10"), ("98.99", "20"), ("10", "50")],
)
def test_the_credit_is_the_tier_with_the_smallest_below_above_the_availability(availability: str, credit: str) -> None:
    # 99.00 is not below 99.00: the smallest `below` still above it is 99.50, so 10 %.
    assert ContractTerms().credit_pct(Decimal(availability)) == Decimal(credit)


@pytest.mark.parametrize(
    ("score", "coefficient"), [(100, "1.00"), (90, "1.00"), (85, "0.97"), (70, "0.93"), (0, "0.85")]
)
def test_the_coefficient_is_the_tier_with_the_largest_min_score_not_above_the_score(
    score: int, coefficient: str
) -> None:
    assert ContractTerms().coefficient(score) == Decimal(coefficient)


def _error_fields(terms: dict[str, object]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        ContractTerms.model_validate(terms)
    return {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}


def test_unordered_or_out_of_range_terms_are_refused_naming_the_field() -> None:
    assert _error_fields(
        {"credit_tiers": [{"below": "99.0", "credit_pct": "20"}, {"below": "99.9", "credit_pct": "5"}]}
    ) == {"credit_tiers"}
    assert _error_fields({"rating_tiers": [{"min_score": 0, "coefficient": "1.2"}]}) == {"rating_tiers.0.coefficient"}
    assert _error_fields({"rating_tiers": [{"min_score": 50, "coefficient": "1"}]}) == {"rating_tiers"}
    assert _error_fields({"max_deduction_pct": "130"}) == {"max_deduction_pct"}
    assert _error_fields({"min_coverage": "-1"}) == {"min_coverage"}
    assert "ticket_targets.P1" in _error_fields(
        {
            "ticket_targets": {
                "P1": {"response_minutes": 300, "resolution_minutes": 240, "clock": "24x7"},
                "P2": {"response_minutes": 30, "resolution_minutes": 480, "clock": "24x7"},
                "P3": {"response_minutes": 30, "resolution_minutes": 480, "clock": "business"},
                "P4": {"response_minutes": 30, "resolution_minutes": 480, "clock": "business"},
            }
        }
    )
    assert _error_fields({"ticket_penalties": {"P1": "100.00"}}) == {"ticket_penalties"}


def test_the_worked_example_base_is_prorated_by_active_days() -> None:
    # DESIGN §5: 20 × 1500.00, active from 2026-10-10, October has 31 days, 22 of them active
    assert total_cost(20, Decimal("1500.00"), date(2026, 10, 10), date(2026, 10, 31)) == Decimal("21290.32")


def test_a_span_across_new_year_splits_by_fiscal_year_month_by_month() -> None:
    split = cost_by_year(2, Decimal("1000.00"), date(2026, 12, 16), date(2027, 2, 14))
    # December: 2 × 1000 × 16/31 = 1032.258… → 1032.26; January full: 2000.00; February 14/28: 1000.00
    assert split == {2026: Decimal("1032.26"), 2027: Decimal("3000.00")}
    assert total_cost(1, Decimal("1500.00"), date(2027, 1, 1), date(2027, 12, 31)) == Decimal("18000.00")
