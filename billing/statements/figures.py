"""Billing on /metrics, read from the database when scraped (a ``monitoring.figures`` source): statements by
state; the billed, deducted and payable amounts of the last 24 periods (a bounded label set); and how long the
oldest issued statement has waited for the bureau's approval, for the "statement approval overdue" alert."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlmodel import Session

from billing.statements.models import Statement, StatementStatus
from opscenter.db import core_table
from opscenter.timekeeping import utcnow

PERIODS = 24


def figures(session: Session | None) -> Iterable[Metric]:
    by_state = GaugeMetricFamily("opscenter_statements", "Statements by state", labels=["state"])
    amounts = GaugeMetricFamily(
        "opscenter_billing_amount_yuan",
        "Per period: base billed, deducted, and the amount of its statements (draft ones included), yuan",
        labels=["period", "kind"],
    )
    waiting = GaugeMetricFamily(
        "opscenter_statement_oldest_issued_age_seconds",
        "Seconds since the oldest statement still awaiting the bureau's approval was issued; 0 when none waits",
    )
    if session is not None:
        table = core_table(Statement)
        connection = session.connection()
        counts: dict[str, int] = dict(
            connection.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
        )
        for state in StatementStatus:
            by_state.add_metric([state.value], counts.get(state.value, 0))
        sums = (
            select(table.c.period, func.sum(table.c.base_fen), func.sum(table.c.deduction_fen),
                   func.sum(table.c.amount_fen))
            .group_by(table.c.period)
            .order_by(table.c.period.desc())
            .limit(PERIODS)
        )  # fmt: skip
        for period, base, deduction, amount in connection.execute(sums):
            for kind, fen in (("base", base), ("deduction", deduction), ("amount", amount)):
                amounts.add_metric([period, kind], int(fen or 0) / 100)
        oldest = connection.execute(
            select(func.min(table.c.issued_at)).where(table.c.status == StatementStatus.ISSUED.value)
        ).scalar_one()
        waiting.add_metric([], 0.0 if oldest is None else (utcnow() - oldest).total_seconds())
    return [by_state, amounts, waiting]
