"""What a quantity of a monthly-priced service costs over a span of days, month by month (DESIGN §5 ``base``).

Budget commitments, contract totals and (later) statements all prorate the same way: for each
month, ``round(quantity × monthly_price × active_days / days_in_month)``, half up to the fen.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from opscenter.money import round_yuan
from opscenter.timekeeping import Period, days_between


def months(start: date, end: date) -> Iterator[tuple[Period, date, date]]:
    """Each month touched by [start, end], with the part of it inside the span."""
    period = Period.of(start)
    while period.first_day <= end:
        yield period, max(start, period.first_day), min(end, period.last_day)
        period = period.next()


def monthly_base(quantity: int, monthly_price: Decimal, period: Period, active_days: int) -> Decimal:
    return round_yuan(Decimal(quantity) * monthly_price * active_days / period.days)


def cost_by_year(quantity: int, monthly_price: Decimal, start: date, end: date) -> dict[int, Decimal]:
    """The prorated cost of [start, end], split by fiscal (calendar) year."""
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    for period, first, last in months(start, end):
        by_year[period.year] += monthly_base(quantity, monthly_price, period, days_between(first, last))
    return dict(by_year)


def total_cost(quantity: int, monthly_price: Decimal, start: date, end: date) -> Decimal:
    return sum(cost_by_year(quantity, monthly_price, start, end).values(), Decimal(0))
