"""Tickets on /metrics, read from the database when scraped (a ``monitoring.figures`` source), so every process
(and every ``serve --workers N`` process) reports the same truth: open tickets by priority and state (one GROUP
BY over the open tickets), how long they have been open (one more GROUP BY), the clocks of the open ones (past due,
due within the hour) and the breaches recorded last month and this month, for the dashboards."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import case, literal
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


@dataclass(frozen=True)
class AgeBucket:
    """How long a ticket has been open, in wall-clock time since it was opened: the time the department has been
    waiting, which runs on nights and holidays whatever the SLA clock does (the board shows that clock)."""

    value: str  # the metric's label
    label: str  # as people read it
    under: timedelta | None  # the bucket holds ages below this (and at or above the bucket before); None: the rest


# Read by the operations staff against the targets: under 4 hours (P1's resolution target), within the day (P2's
# 8 hours and a working day), up to 3 days (P3's three working days), within the week (P4's five), a month (stale),
# older (forgotten). Plain hours and days, not business days: what is true on a Monday morning and in the SQL alike.
AGE_BUCKETS = (
    AgeBucket("lt_4h", "4 小时内", timedelta(hours=4)),
    AgeBucket("4h_1d", "4 小时–1 天", timedelta(days=1)),
    AgeBucket("1d_3d", "1–3 天", timedelta(days=3)),
    AgeBucket("3d_7d", "3–7 天", timedelta(days=7)),
    AgeBucket("7d_30d", "7–30 天", timedelta(days=30)),
    AgeBucket("ge_30d", "30 天以上", None),
)


def open_by_age(session: Session, now: datetime) -> dict[tuple[str, str], int]:
    """How many tickets are open, by (priority, age bucket value): one GROUP BY over the open tickets, the bucket a
    CASE on ``created_at`` against the buckets' boundaries as instants (so no date arithmetic in either database)."""
    bucket = case(
        *((col(Ticket.created_at) > now - age.under, literal(age.value)) for age in AGE_BUCKETS if age.under),
        else_=literal(AGE_BUCKETS[-1].value),
    ).label("age")
    aged = select(col(Ticket.priority).label("priority"), bucket).where(col(Ticket.status).in_(OPEN)).subquery()
    # Grouped outside: PostgreSQL would not match a GROUP BY on the CASE to the select's (each binds its own values).
    rows = session.exec(select(aged.c.priority, aged.c.age, func.count()).group_by(aged.c.priority, aged.c.age)).all()
    return {(str(priority), str(age)): count for priority, age, count in rows}


def figures(session: Session | None) -> Iterable[Metric]:
    open_tickets = GaugeMetricFamily(
        "opscenter_tickets_open", "Open tickets (not closed) by priority and state", labels=["priority", "state"]
    )
    open_age = GaugeMetricFamily(
        "opscenter_tickets_open_age",
        "Open tickets (not closed) by priority and how long since they were opened (wall clock)",
        labels=["priority", "age"],
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
        ages = open_by_age(session, now)
        for priority in Priority:
            for age in AGE_BUCKETS:
                open_age.add_metric([priority.value, age.value], ages.get((priority.value, age.value), 0))
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
    return [open_tickets, open_age, overdue, due_soon, breaches]


def _by_priority(session: Session, *conditions: object) -> dict[str, int]:
    rows = session.exec(
        select(Ticket.priority, func.count()).where(*conditions).group_by(col(Ticket.priority))  # type: ignore[arg-type]
    ).all()
    return {str(priority): count for priority, count in rows}
