"""The ticket sweep, every minute: breaches whose due time passed, the escalation flag at 75 %, and the
automatic close five working days after resolve.

Breaches and escalations are conditional UPDATEs (``… WHERE response_breached_at IS NULL``): a row is
marked by whichever statement reaches it first, and a second sweep racing the first (or a transition,
which holds the row's lock) finds it marked and leaves it. Each is one range over an index on
(status, due time), so the sweep costs what it marks, not what is open. The due times were computed
when the ticket was opened or last moved, so no calendar arithmetic happens here.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from monitoring.metrics import TICKET_BREACHES, TICKET_SWEEP_SECONDS
from operations.tickets import flows
from operations.tickets.models import CLOCK_RUNNING, BreachKind, Ticket, TicketStatus
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI

# At most this many tickets close per sweep (each is a row lock and an audit event); the rest next minute.
AUTO_CLOSE_BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    response_breaches: int
    resolution_breaches: int
    escalations: int
    auto_closed: int


def sweep(session: Session, context: JobContext[Actor]) -> SweepResult:
    started = time.perf_counter()
    now = context.now
    response = _mark(
        session,
        col(Ticket.response_breached_at),
        col(Ticket.response_due_at),
        col(Ticket.status) == TicketStatus.NEW,
        now,
    )
    running = col(Ticket.status).in_(CLOCK_RUNNING)
    resolution = _mark(session, col(Ticket.resolution_breached_at), col(Ticket.resolution_due_at), running, now)
    escalations = _mark(session, col(Ticket.escalated_at), col(Ticket.escalation_due_at), running, now)
    closed = _auto_close(session, context)
    TICKET_BREACHES.labels(kind=BreachKind.RESPONSE.value).inc(response)
    TICKET_BREACHES.labels(kind=BreachKind.RESOLUTION.value).inc(resolution)
    TICKET_SWEEP_SECONDS.observe(time.perf_counter() - started)
    return SweepResult(response, resolution, escalations, closed)


def _mark(session: Session, mark: Any, due: Any, in_state: ColumnElement[bool], now: datetime) -> int:
    """Set ``mark`` to ``due`` on the rows in state whose ``due`` passed and that are not marked yet."""
    statement = (
        update(Ticket)
        .where(in_state, due < now, mark.is_(None))
        .values({mark: due})
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _auto_close(session: Session, context: JobContext[Actor]) -> int:
    due = session.exec(
        select(Ticket)
        .where(Ticket.status == TicketStatus.RESOLVED, col(Ticket.auto_close_at) < context.now)
        .order_by(col(Ticket.auto_close_at))
        .limit(AUTO_CLOSE_BATCH)
        .with_for_update(skip_locked=True)  # a ticket the department is closing right now is theirs to close
    ).all()
    return sum(flows.auto_close(session, ticket, actor=context.actor, now=context.now) for ticket in due)


JOBS = [
    Job(
        id="tickets.sweep",
        description="Record ticket SLA breaches, raise escalations at 75 %, close tickets resolved five working "
        "days ago",
        trigger=CronTrigger(minute="*", timezone=SHANGHAI),
        run=sweep,
    ),
]
