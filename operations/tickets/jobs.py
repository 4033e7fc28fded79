"""The ticket sweep, every minute: breaches whose due time passed, the escalation flag at 75 %, and the
automatic close five working days after resolve.

Breaches and escalations are conditional UPDATEs (``… WHERE response_breached_at IS NULL``): a row is
marked by whichever statement reaches it first, and a second sweep racing the first (or a transition,
which holds the row's lock) finds it marked and leaves it. Each is one range over an index on
(status, due time), so the sweep costs what it marks, not what is open. The due times were computed
when the ticket was opened or last moved, so no calendar arithmetic happens here.

Each kind of mark is one short write transaction; the automatic closes follow in transactions of
``AUTO_CLOSE_STEP`` tickets each (a close is a row lock, an audit event and a history entry), so a request's
write never waits behind hundreds of them at once.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from monitoring.metrics import TICKET_BREACHES, TICKET_SWEEP_SECONDS
from operations.tickets import flows, notices
from operations.tickets.models import CLOCK_RUNNING, BreachKind, Ticket, TicketStatus
from opscenter.db import Transactions
from opscenter.identity.actor import Actor
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI

# At most this many tickets close per sweep (each is a row lock and an audit event); the rest next minute.
AUTO_CLOSE_BATCH = 500
AUTO_CLOSE_STEP = 50  # closes per write transaction


@dataclass(frozen=True)
class SweepResult:
    response_breaches: int
    resolution_breaches: int
    escalations: int
    auto_closed: int


def sweep(db: Transactions, context: JobContext[Actor]) -> SweepResult:
    started = time.perf_counter()
    now = context.now
    running = col(Ticket.status).in_(CLOCK_RUNNING)
    marks = (
        (col(Ticket.response_breached_at), col(Ticket.response_due_at), col(Ticket.status) == TicketStatus.NEW),
        (col(Ticket.resolution_breached_at), col(Ticket.resolution_due_at), running),
        (col(Ticket.escalated_at), col(Ticket.escalation_due_at), running),
    )
    notices = (Notice.TICKET_BREACHED, Notice.TICKET_BREACHED, Notice.TICKET_ESCALATED)
    marked = []
    for (mark, due_at, in_state), notice in zip(marks, notices, strict=True):  # each its own transaction
        with db.transaction(write=True) as session:
            ids = _mark(session, mark, due_at, in_state, now)
            _tell(session, ids, notice, context.actor)
            marked.append(len(ids))
    response, resolution, escalations = marked
    closed = seen = 0
    while seen < AUTO_CLOSE_BATCH:
        with db.transaction(write=True) as session:
            due, closing = _auto_close(session, context, limit=min(AUTO_CLOSE_STEP, AUTO_CLOSE_BATCH - seen))
        closed, seen = closed + closing, seen + due
        if due < AUTO_CLOSE_STEP:
            break
    TICKET_BREACHES.labels(kind=BreachKind.RESPONSE.value).inc(response)
    TICKET_BREACHES.labels(kind=BreachKind.RESOLUTION.value).inc(resolution)
    TICKET_SWEEP_SECONDS.observe(time.perf_counter() - started)
    return SweepResult(response, resolution, escalations, closed)


def _mark(session: Session, mark: Any, due: Any, in_state: ColumnElement[bool], now: datetime) -> list[uuid.UUID]:
    """Set ``mark`` to ``due`` on the rows in state whose ``due`` passed and that are not marked yet; their ids."""
    statement = (
        update(Ticket)
        .where(in_state, due < now, mark.is_(None))
        .values({mark: due})
        .returning(col(Ticket.id))
        .execution_options(synchronize_session=False)
    )
    return list(session.execute(statement).scalars())


def _tell(session: Session, ids: list[uuid.UUID], notice: Notice, actor: Actor) -> None:
    """The outbox events of the tickets just marked, in the transaction that marked them."""
    for ticket in session.exec(select(Ticket).where(col(Ticket.id).in_(ids))) if ids else ():
        notices.tell(session, ticket, notice, actor=actor)


def _auto_close(session: Session, context: JobContext[Actor], *, limit: int) -> tuple[int, int]:
    """Close up to ``limit`` of the resolved tickets whose time came; returns (how many were due, how many closed:
    one whose calendar was not known yet moves its time instead)."""
    due = session.exec(
        select(Ticket)
        .where(Ticket.status == TicketStatus.RESOLVED, col(Ticket.auto_close_at) < context.now)
        .order_by(col(Ticket.auto_close_at))
        .limit(limit)
        .with_for_update(skip_locked=True)  # a ticket the department is closing right now is theirs to close
    ).all()
    return len(due), sum(flows.auto_close(session, ticket, actor=context.actor, now=context.now) for ticket in due)


JOBS = [
    Job(
        id="tickets.sweep",
        description="Record ticket SLA breaches, raise escalations at 75 %, close tickets resolved five working "
        "days ago",
        trigger=CronTrigger(minute="*", timezone=SHANGHAI),
        run_steps=sweep,
    ),
]
