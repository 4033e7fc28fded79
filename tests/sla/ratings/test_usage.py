"""A contract line is in force in a month when an approved version governing some day of it has the line then."""

from datetime import date

import pytest

from contracts.agreements.activity import VersionSpan
from opscenter.timekeeping import Period
from sla.ratings.usage import line_in_force

D = date.fromisoformat
SIGNED = VersionSpan(1, D("2026-01-01"), D("2026-12-31"), D("2026-01-01"), D("2026-12-31"))
# Version 2 from July: the line now ends with August.
SHORTENED = VersionSpan(2, D("2026-07-01"), D("2026-12-31"), D("2026-01-01"), D("2026-08-31"))
# Version 2 from July drops the line altogether.
DROPPED = VersionSpan(2, D("2026-07-01"), D("2026-12-31"), None, None)
# Version 2 from July extends the contract and the line to next March.
EXTENDED = VersionSpan(2, D("2026-07-01"), D("2027-03-31"), D("2026-01-01"), D("2027-03-31"))
LATE_LINE = VersionSpan(1, D("2026-01-01"), D("2026-12-31"), D("2026-04-30"), D("2026-12-31"))


@pytest.mark.parametrize(
    ("versions", "period", "terminated_on", "in_force"),
    [
        ([SIGNED], "2026-01", None, True),
        ([SIGNED], "2025-12", None, False),
        ([SIGNED], "2027-01", None, False),
        ([LATE_LINE], "2026-03", None, False),
        ([LATE_LINE], "2026-04", None, True),  # one day (the 30th) is enough
        ([SIGNED, SHORTENED], "2026-08", None, True),
        ([SIGNED, SHORTENED], "2026-09", None, False),
        ([SHORTENED, SIGNED], "2026-09", None, False),  # order of the rows does not matter
        ([SIGNED, DROPPED], "2026-06", None, True),
        ([SIGNED, DROPPED], "2026-07", None, False),
        ([SIGNED, EXTENDED], "2027-02", None, True),
        ([SIGNED], "2026-05", D("2026-05-01"), True),
        ([SIGNED], "2026-06", D("2026-05-31"), False),
    ],
)
def test_line_in_force(versions: list[VersionSpan], period: str, terminated_on: date | None, in_force: bool) -> None:
    assert line_in_force(versions, Period.parse(period), terminated_on) is in_force
