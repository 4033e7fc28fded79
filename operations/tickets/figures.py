"""Tickets on /metrics, read from the database when scraped (a ``monitoring.figures`` source), so every process
(and every ``serve --workers N`` process) reports the same truth, for the dashboards and the console's overview: the
open tickets by priority, state and how long they have been open, with their clocks (past due, due within the hour),
in one GROUP BY over the open tickets; the breaches recorded last month and this month, in one more statement."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import and_, case, literal, or_, select
from sqlmodel import Session, col, func

from contracts.terms import Priority
from operations.tickets.models import CLOCK_RUNNING, OPEN, Ticket, TicketStatus
from opscenter.timekeeping import Period, start_of_day, today, utcnow


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


@dataclass
class OpenTickets:
    """The open tickets counted: by (priority, state), by (priority, age bucket value), and by priority those past
    their response due time unacknowledged, past their resolution due time with the clock running, and due within
    the hour."""

    by_state: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_age: Counter[tuple[str, str]] = field(default_factory=Counter)
    late_response: Counter[str] = field(default_factory=Counter)
    late_resolution: Counter[str] = field(default_factory=Counter)
    due_within_hour: Counter[str] = field(default_factory=Counter)


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def open_tickets(session: Session, now: datetime) -> OpenTickets:
    """The open tickets at ``now``, counted in one statement: each open ticket's priority, state, age bucket (a CASE
    on ``created_at`` against the buckets' boundaries as instants: no date arithmetic in either database) and clock
    flags, grouped by the first three and the flags summed."""
    running = col(Ticket.status).in_(CLOCK_RUNNING)
    resolution_due = col(Ticket.resolution_due_at)
    age = case(
        *(
            (col(Ticket.created_at) > now - bucket.under, literal(bucket.value))
            for bucket in AGE_BUCKETS
            if bucket.under
        ),
        else_=literal(AGE_BUCKETS[-1].value),
    )
    each = (
        select(
            col(Ticket.priority).label("priority"),
            col(Ticket.status).label("status"),
            age.label("age"),
            _flag(and_(col(Ticket.status) == TicketStatus.NEW, col(Ticket.response_due_at) < now)).label(
                "late_response"
            ),
            _flag(and_(running, resolution_due < now)).label("late_resolution"),
            _flag(and_(running, resolution_due >= now, resolution_due < now + timedelta(hours=1))).label("soon"),
        )
        .where(col(Ticket.status).in_(OPEN))
        .subquery()
    )
    # Grouped outside: PostgreSQL would not match a GROUP BY on the CASE to the select's (each binds its own values).
    rows = session.execute(
        select(
            each.c.priority,
            each.c.status,
            each.c.age,
            func.count(),
            func.sum(each.c.late_response),
            func.sum(each.c.late_resolution),
            func.sum(each.c.soon),
        ).group_by(each.c.priority, each.c.status, each.c.age)
    ).all()
    counted = OpenTickets()
    for priority, status, bucket, count, late_response, late_resolution, soon in rows:
        priority, status = str(priority), str(status)
        counted.by_state[priority, status] += count
        counted.by_age[priority, str(bucket)] += count
        counted.late_response[priority] += int(late_response or 0)
        counted.late_resolution[priority] += int(late_resolution or 0)
        counted.due_within_hour[priority] += int(soon or 0)
    return counted


def breaches_by_month(session: Session, day: Any) -> dict[tuple[str, str], int]:
    """Breaches whose due time fell in the month of ``day`` ("this") and the month before ("last"), by (kind,
    month), in one statement over the breaches since the first of last month (both columns indexed)."""
    this_month = Period.of(day)
    months = (("last", Period.of(this_month.first_day - timedelta(days=1))), ("this", this_month))
    bounds = {name: (start_of_day(p.first_day), start_of_day(p.next().first_day)) for name, p in months}
    columns = (("response", col(Ticket.response_breached_at)), ("resolution", col(Ticket.resolution_breached_at)))
    keys = [(kind, name) for name, _ in months for kind, _ in columns]
    sums = [
        func.coalesce(func.sum(_flag(and_(column >= bounds[name][0], column < bounds[name][1]))), 0)
        for name, _ in months
        for _, column in columns
    ]
    since = bounds["last"][0]
    counts = session.execute(select(*sums).where(or_(*(column >= since for _, column in columns)))).one()
    return {key: int(count) for key, count in zip(keys, counts, strict=True)}


def figures(session: Session | None) -> Iterable[Metric]:
    open_count = GaugeMetricFamily(
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
        counted = open_tickets(session, utcnow())
        for priority in Priority:
            for status in OPEN:
                open_count.add_metric([priority.value, status.value], counted.by_state[priority.value, status.value])
            for bucket in AGE_BUCKETS:
                open_age.add_metric([priority.value, bucket.value], counted.by_age[priority.value, bucket.value])
            overdue.add_metric([priority.value, "response"], counted.late_response[priority.value])
            overdue.add_metric([priority.value, "resolution"], counted.late_resolution[priority.value])
            due_soon.add_metric([priority.value], counted.due_within_hour[priority.value])
        for (kind, month), count in breaches_by_month(session, today()).items():
            breaches.add_metric([kind, month], count)
    return [open_count, open_age, overdue, due_soon, breaches]
