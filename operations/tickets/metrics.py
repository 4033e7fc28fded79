"""Open tickets by priority and state on /metrics, read from the database when scraped (a ``monitoring.figures``
source), so every process (and every ``serve --workers N`` process) reports the same truth. One GROUP BY over the
open tickets."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, col, func, select

from contracts.terms import Priority
from operations.tickets.models import OPEN, Ticket


def open_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many tickets are open, by (priority, status)."""
    rows = session.exec(
        select(Ticket.priority, Ticket.status, func.count())
        .where(col(Ticket.status).in_(OPEN))
        .group_by(col(Ticket.priority), col(Ticket.status))
    ).all()
    return {(str(priority), str(status)): count for priority, status, count in rows}


def figures(session: Session | None) -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "opscenter_tickets_open", "Open tickets (not closed) by priority and state", labels=["priority", "state"]
    )
    if session is not None:
        counts = open_counts(session)
        for priority in Priority:
            for status in OPEN:
                family.add_metric([priority.value, status.value], counts.get((priority.value, status.value), 0))
    return [family]
