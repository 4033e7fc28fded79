"""The SLA report of a month under way says how much of the month's error budget is left."""

from decimal import Decimal

import pytest

from sla.reports.service import error_budget_left


@pytest.mark.parametrize(
    ("up", "samples", "measured_days", "left"),
    [
        # 99.90 % over a 30-day line, 1,440 samples a day: 43.2 samples of the month may be down
        (14_400, 14_400, 10, Decimal("100.00")),  # ten days, nothing down: all of it left
        (14_400 - 18, 14_400, 10, Decimal("58.33")),  # 18 minutes down: 25.2 of 43.2 left
        (14_400 - 60, 14_400, 10, Decimal("0")),  # an hour down: spent, the target is missed whatever comes
        (0, 0, 0, None),  # nothing measured yet
    ],
)
def test_the_budget_left_is_what_the_target_allows_over_the_month_less_the_downtime_so_far(
    up: int, samples: int, measured_days: int, left: Decimal | None
) -> None:
    found = error_budget_left(
        Decimal("99.90"), up=up, samples=samples, expected=samples, measured_days=measured_days, active_days=30
    )
    assert found == left
