"""The billing formula of DESIGN §5 to the fen: the worked example, golden rounding, and invariants over random
lines (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import formula
from billing.formula import SpanCharge
from contracts.terms import ContractTerms
from opscenter.money import round_yuan
from opscenter.timekeeping import Period

TERMS = ContractTerms()
D = Decimal


def test_the_worked_example_of_the_design_to_the_fen() -> None:
    october = Period(2026, 10)
    base = formula.base([SpanCharge(20, D("1500.00"), 22)], october.days)
    credit, below = formula.credit_pct(TERMS.credit_tiers, D("99.40"))
    coefficient = formula.coefficient(TERMS.rating_tiers, D("85"))
    line = formula.charge(
        base=base,
        credit_pct=credit,
        penalties=TERMS.ticket_penalties["P1"],  # type: ignore[index]
        coefficient=coefficient,
        max_deduction_pct=TERMS.max_deduction_pct,
    )
    assert (credit, below, coefficient) == (D("10"), D("99.50"), D("0.97"))
    assert line == formula.LineCharge(
        base=D("21290.32"),
        sla_credit=D("2129.03"),
        penalties=D("2000.00"),
        rating_ded=D("514.84"),
        cap=D("6387.10"),
        deduction=D("4643.87"),
        amount=D("16646.45"),
    )


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [("617.285", "617.29"), ("0.125", "0.13"), ("1.005", "1.01"), ("0.004", "0.00"), ("2.675", "2.68")],
)
def test_every_named_step_rounds_half_up_to_the_fen(exact: str, rounded: str) -> None:
    assert round_yuan(D(exact)) == D(rounded)


def test_a_base_that_lands_on_half_a_fen_rounds_up() -> None:
    assert formula.base([SpanCharge(1, D("3.75"), 1)], 30) == D("0.13")  # 0.125
    assert formula.base([SpanCharge(1, D("18518.55"), 1)], 30) == D("617.29")


@pytest.mark.parametrize(
    ("availability", "credit"),
    [("100", "0"), ("99.90", "0"), ("99.89", "5"), ("99.50", "5"), ("99.49", "10"), ("99.00", "10"),
     ("98.99", "20"), ("95.00", "20"), ("94.99", "50"), ("0", "50")],
)  # fmt: skip
def test_the_credit_is_the_tier_with_the_smallest_below_still_above_availability(
    availability: str, credit: str
) -> None:
    assert formula.credit_pct(TERMS.credit_tiers, D(availability))[0] == D(credit)


@pytest.mark.parametrize(
    ("score", "coefficient"),
    [(None, "1"), ("100", "1.00"), ("90", "1.00"), ("89.99", "0.97"), ("80", "0.97"), ("79.5", "0.93"),
     ("70", "0.93"), ("69.99", "0.85"), ("0", "0.85")],
)  # fmt: skip
def test_the_coefficient_is_the_tier_with_the_largest_min_score_not_above_the_score(
    score: str | None, coefficient: str
) -> None:
    assert formula.coefficient(TERMS.rating_tiers, None if score is None else D(score)) == D(coefficient)


def test_a_line_amended_mid_month_is_prorated_over_its_spans_and_rounded_once() -> None:
    # 10 units for 10 days, then 12 units for 20 days, at 100.00 in a 30-day month: 333.333… + 800 = 1133.33
    spans = [SpanCharge(10, D("100.00"), 10), SpanCharge(12, D("100.00"), 20)]
    assert formula.base(spans, 30) == D("1133.33")
    # two half fen: rounded once 0.01, rounded per span 0.02 (a fen the month is not worth)
    halves = [SpanCharge(1, D("0.01"), 15), SpanCharge(1, D("0.01"), 15)]
    assert formula.base(halves, 30) == D("0.01")


def test_insufficient_data_earns_no_credit_and_penalties_larger_than_the_base_are_capped() -> None:
    line = formula.charge(
        base=D("1000.00"), credit_pct=None, penalties=D("4000.00"), coefficient=D("0.85"), max_deduction_pct=D("30")
    )
    assert (line.sla_credit, line.rating_ded, line.deduction, line.amount) == (
        D("0"),
        D("0.00"),
        D("300.00"),
        D("700.00"),
    )


money = st.integers(min_value=0, max_value=10_000_000).map(lambda fen: D(fen) / 100)
percent = st.integers(min_value=0, max_value=10_000).map(lambda hundredths: D(hundredths) / 100)


@st.composite
def lines(draw: st.DrawFn) -> tuple[Decimal, formula.LineCharge]:
    days_in_month = draw(st.sampled_from([28, 29, 30, 31]))
    spans = draw(
        st.lists(
            st.builds(
                SpanCharge,
                quantity=st.integers(min_value=1, max_value=100_000),
                unit_price=money,
                days=st.integers(min_value=1, max_value=10),
            ),
            min_size=1,
            max_size=3,
        )
    )
    base = formula.base(spans, days_in_month)
    availability = draw(st.none() | percent)
    credit = None if availability is None else formula.credit_pct(TERMS.credit_tiers, availability)[0]
    score = draw(st.none() | percent)
    line = formula.charge(
        base=base,
        credit_pct=credit,
        penalties=draw(st.integers(min_value=0, max_value=5).map(lambda n: n * D("2000.00")) | money),
        coefficient=formula.coefficient(TERMS.rating_tiers, score),
        max_deduction_pct=draw(percent),
    )
    return base, line


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=20))
def test_amount_is_base_less_a_deduction_within_the_cap_and_lines_sum_to_the_total(
    drawn: list[tuple[Decimal, formula.LineCharge]],
) -> None:
    for base, line in drawn:
        for figure in (line.base, line.sla_credit, line.penalties, line.rating_ded, line.cap, line.deduction):
            assert figure == round_yuan(figure)  # every figure is whole fen
        assert line.base == base
        assert line.amount == line.base - line.deduction
        assert D(0) <= line.deduction <= line.cap <= line.base
    totals = formula.totals(line for _, line in drawn)
    assert totals.amount == sum((line.amount for _, line in drawn), D(0))
    assert totals.amount == totals.base - totals.deduction >= 0
