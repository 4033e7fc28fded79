"""Whether the business calendar knows the years it will soon need, on /metrics (a ``monitoring.figures``
source, read when scraped): ``opscenter_calendar_year_known{year}`` is 1 for a year with the package's schedule or
an imported one, 0 for one without, when business-clock tickets of that year would be refused (409
``calendar-unknown``).

Reported for this year always, and for next year from November 1 (Asia/Shanghai) on: the State Council publishes
the next year's schedule in November, so from then an unknown next year is work for the admin (import it with
``PUT /api/v1/calendar/years/{year}``), and the alert ``OpsCenterCalendarNextYearUnknown`` says so before January.
Not secret, so open to any scraper with the house's own figures.
"""

from collections.abc import Iterable
from datetime import date

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session

from opscenter.calendar.service import working_calendar
from opscenter.timekeeping import today

WATCH_NEXT_YEAR_FROM = (11, 1)  # month, day (Asia/Shanghai)


def watched_years(day: date) -> list[int]:
    """The years the figure reports on ``day``: this one, and from November 1 on the next one too."""
    if (day.month, day.day) >= WATCH_NEXT_YEAR_FROM:
        return [day.year, day.year + 1]
    return [day.year]


def figures(session: Session | None) -> Iterable[Metric]:
    known = GaugeMetricFamily(
        "opscenter_calendar_year_known",
        "1 when the business calendar knows the year's official schedule, 0 when it does not (business-clock "
        "deadlines in it are refused); this year, and next year from November 1 (Asia/Shanghai)",
        labels=["year"],
    )
    if session is not None:
        calendar = working_calendar(session)
        for year in watched_years(today()):
            known.add_metric([str(year)], 1.0 if calendar.knows(year) else 0.0)
    return [known]
