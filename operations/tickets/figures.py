"""Tickets on /metrics, read from the database when scraped (a ``monitoring.figures`` source), so every process
(and every ``serve --workers N`` process) reports the same truth: open tickets by priority and state (one GROUP
BY over the open tickets), the clocks of the open ones (past due, due within the hour) and the breaches recorded
last month and this month, for the dashboards."""

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, col, func, select

from contracts.terms import Priority
from operations.tickets.models import CLOCK_RUNNING, OPEN, Ticket, TicketStatus
from opscenter.timekeeping import Period, start_of_day, today, utcnow


def open_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many tickets are open, by (priority, status)."""
    rows = session.exec(
        select(Ticket.priority, Ticket.status, func.count())
        .where(col(Ticket.status).in_(OPEN))
        .group_by(col(Ticket.priority), col(Ticket.status))
    ).all()
    return {(str(priority), str(status)): count for priority, status, count in rows}


def figures(session: Session | None) -> Iterable[Metric]:
    open_tickets = GaugeMetricFamily(
        "opscenter_tickets_open", "Open tickets (not closed) by priority and state", labels=["priority", "state"]
    )
    overdue = GaugeMetricFamily(
        "opscenter_tickets_overdue",
        "Open tickets past a due time not met yet, by priority and target (response: not acknowledged; "
        "resolution: clock running)",
        labels=["priority", "target"],
    )
    due_soon = GaugeMetricFamily(
        "opscenter_tickets_due_within_hour",
        "Open tickets whose resolution is due within the next hour, by priority",
        labels=["priority"],
    )
    breaches = GaugeMetricFamily(
        "opscenter_ticket_breaches",
        "Breaches whose due time fell in the month, by kind (response, resolution) and month (last, this)",
        labels=["kind", "month"],
    )
    if session is not None:
        counts = open_counts(session)
        for priority in Priority:
            for status in OPEN:
                open_tickets.add_metric([priority.value, status.value], counts.get((priority.value, status.value), 0))
        now = utcnow()
        running = col(Ticket.status).in_(CLOCK_RUNNING)
        late_response = _by_priority(session, Ticket.status == TicketStatus.NEW, col(Ticket.response_due_at) < now)
        late_resolution = _by_priority(session, running, col(Ticket.resolution_due_at) < now)
        soon = _by_priority(
            session,
            running,
            col(Ticket.resolution_due_at) >= now,
            col(Ticket.resolution_due_at) < now + timedelta(hours=1),
        )
        for priority in Priority:
            overdue.add_metric([priority.value, "response"], late_response.get(priority.value, 0))
            overdue.add_metric([priority.value, "resolution"], late_resolution.get(priority.value, 0))
            due_soon.add_metric([priority.value], soon.get(priority.value, 0))
        this_month = Period.of(today())
        for name, period in (("last", Period.of(this_month.first_day - timedelta(days=1))), ("this", this_month)):
            start, end = start_of_day(period.first_day), start_of_day(period.next().first_day)
            for kind, column in (
                ("response", Ticket.response_breached_at),
                ("resolution", Ticket.resolution_breached_at),
            ):
                count = session.exec(
                    select(func.count()).select_from(Ticket).where(col(column) >= start, col(column) < end)
                ).one()
                breaches.add_metric([kind, name], count)
    return [open_tickets, overdue, due_soon, breaches]


def _by_priority(session: Session, *conditions: object) -> dict[str, int]:
    rows = session.exec(
        select(Ticket.priority, func.count()).where(*conditions).group_by(col(Ticket.priority))  # type: ignore[arg-type]
    ).all()
    return {str(priority): count for priority, count in rows}
