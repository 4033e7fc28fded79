"""Statement figures on /metrics (``monitoring.figures``): how long the oldest issued statement has waited for the
bureau's approval, for the "statement approval overdue" alert."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, func, select

from billing.statements.models import Statement, StatementStatus
from opscenter.timekeeping import utcnow


def figures(session: Session | None) -> Iterable[Metric]:
    waiting = GaugeMetricFamily(
        "opscenter_statement_oldest_issued_age_seconds",
        "Seconds since the oldest statement still awaiting the bureau's approval was issued; 0 when none waits",
    )
    if session is not None:
        oldest = session.exec(
            select(func.min(Statement.issued_at)).where(Statement.status == StatementStatus.ISSUED)
        ).one()
        waiting.add_metric([], 0.0 if oldest is None else (utcnow() - oldest).total_seconds())
    return [waiting]
