"""The month's verdict from its counts (DESIGN §4, §5): pure functions, no database."""

from decimal import Decimal

import pytest

from contracts.terms import ContractTerms
from monitoring.promql import Window
from sla.measurements.service import cut
from sla.reports.models import SlaStatus
from sla.reports.service import percent, precision, verdict

TERMS = ContractTerms()  # 99.90 target, 95.0 coverage, tiers 99.90→5, 99.50→10, 99.00→20, 95.00→50
MET, BREACHED, INSUFFICIENT, PENDING = (SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.INSUFFICIENT_DATA,
                                        SlaStatus.PENDING)  # fmt: skip


@pytest.mark.parametrize(
    ("up", "samples", "expected", "status", "availability", "coverage", "credit", "below"),
    [
        (10000, 10000, 10000, MET, "100.00", "100.0", "0", None),
        (9990, 10000, 10000, MET, "99.90", "100.0", "0", None),  # exactly the target
        (99899, 100000, 100000, BREACHED, "99.89", "100.0", "5", "99.90"),  # 99.899 is below 99.90, shown cut
        (9940, 10000, 10000, BREACHED, "99.40", "100.0", "10", "99.50"),  # DESIGN §5's example
        (9500, 10000, 10000, BREACHED, "95.00", "100.0", "20", "99.00"),  # 95.00 is not below 95.00
        (9400, 10000, 10000, BREACHED, "94.00", "100.0", "50", "95.00"),  # below every tier: the lowest
        (9000, 9499, 10000, INSUFFICIENT, "94.74", "94.9", "0", None),  # coverage 94.99 % < 95.0
        (9499, 9500, 10000, MET, "99.98", "95.0", "0", None),  # coverage exactly the minimum
        (0, 0, 10000, INSUFFICIENT, None, "0.0", "0", None),  # nothing sampled: unknown, not down
        (0, 0, 0, INSUFFICIENT, None, None, "0", None),  # all of it maintenance
    ],
)
def test_the_verdict_and_the_credit_tier_of_a_month(
    up: int, samples: int, expected: int, status: SlaStatus, availability: str | None, coverage: str | None,
    credit: str, below: str | None,
) -> None:  # fmt: skip
    got = verdict(TERMS, up=up, samples=samples, expected=expected, final=True)
    text = (got[0], *(None if value is None else format(value, "f") for value in got[1:]))
    assert text == (status, availability, coverage, credit, below)


def test_a_month_not_final_is_pending_without_credit_whatever_its_figures() -> None:
    assert verdict(TERMS, up=0, samples=100, expected=100, final=False) == (
        PENDING, Decimal("0.00"), Decimal("100.0"), Decimal(0), None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("thresholds", "quantum"),
    [(("99.90",), "0.01"), (("95.0",), "0.1"), (("99",), "1"), (("99.9", "99.905"), "0.001")],
)
def test_percentages_take_the_precision_of_the_terms(thresholds: tuple[str, ...], quantum: str) -> None:
    assert precision(*(Decimal(text) for text in thresholds)) == Decimal(quantum)


def test_percentages_are_cut_never_rounded_up_past_a_threshold() -> None:
    assert percent(99_899_999, 100_000_000, Decimal("0.01")) == Decimal("99.89")
    assert percent(2, 3, Decimal("0.1")) == Decimal("66.6")
    assert percent(1, 0, Decimal("0.1")) is None


H = 3_600_000


@pytest.mark.parametrize(
    ("holes", "left"),
    [
        ([], [(0, 24)]),
        ([(2, 3)], [(0, 2), (3, 24)]),
        ([(-5, 1), (23, 30)], [(1, 23)]),  # windows reaching into the days around
        ([(2, 4), (3, 5)], [(0, 2), (5, 24)]),  # overlapping windows
        ([(0, 24)], []),
        ([(25, 26)], [(0, 24)]),
    ],
)
def test_maintenance_is_cut_out_of_the_day_exactly(holes: list[tuple[int, int]], left: list[tuple[int, int]]) -> None:
    day = Window(0, 24 * H)
    pieces = cut(day, [Window(start * H, end * H) for start, end in holes])
    assert [(piece.start_ms // H, piece.end_ms // H) for piece in pieces] == left
