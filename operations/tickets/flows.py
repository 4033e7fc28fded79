"""The life of a ticket (DESIGN §2.5): ``new → acknowledged → in_progress ⇄ pending_customer → resolved →
closed``, and ``resolved → in_progress`` when the department reopens it.

Each step locks the row, checks the version the actor read (If-Match, 412) and the state it starts from
(409 naming the current one), records any breach whose due time has passed (breach time = due time, each
once), and changes the ticket inside one audit event. The resolution clock stands still while the ticket
waits for the department and while it is resolved; on resuming, its due times move by the time paused,
measured on the ticket's own clock.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlmodel import Session

from contracts.terms import Priority
from monitoring.metrics import TICKET_BREACHES
from operations.tickets import notices, sla_clocks
from operations.tickets.models import CLOCK_PAUSED, CLOCK_RUNNING, OPEN, BreachKind, Ticket, TicketStatus
from operations.tickets.service import calendar_of, get_ticket, target_of
from opscenter.audit import service as audit
from opscenter.calendar.working_time import CalendarUnknown
from opscenter.errors import Conflict, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrgKind, Role, User
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status

S = TicketStatus


def mark_breaches(ticket: Ticket, now: datetime) -> list[BreachKind]:
    """Record the breaches (and the escalation) whose due time passed before ``now``, each once."""
    found = []
    if ticket.response_breached_at is None and ticket.status == S.NEW and ticket.response_due_at < now:
        ticket.response_breached_at = ticket.response_due_at
        found.append(BreachKind.RESPONSE)
    if ticket.status in CLOCK_RUNNING:
        if ticket.resolution_breached_at is None and ticket.resolution_due_at < now:
            ticket.resolution_breached_at = ticket.resolution_due_at
            found.append(BreachKind.RESOLUTION)
        if ticket.escalated_at is None and ticket.escalation_due_at < now:
            ticket.escalated_at = ticket.escalation_due_at
    return found


@contextmanager
def _step(session: Session, ticket: Ticket, *, actor: Actor, action: str, now: datetime) -> Iterator[None]:
    """One audited step: the breaches due before it first, in the same event."""
    with audit.change(session, actor=actor, action=f"ticket.{action}", row=ticket):
        breaches = mark_breaches(ticket, now)
        yield
    notices.tell_breaches(session, ticket, breaches, actor=actor)
    session.flush()
    for kind in breaches:
        TICKET_BREACHES.labels(kind=kind.value).inc()


def _locked(
    session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, doing: str, allowed: tuple[S, ...]
) -> Ticket:
    ticket = get_ticket(session, ticket_id, actor=actor, for_update=True)
    ticket.require_version(expected_version)
    require_status(ticket.status, *allowed, doing=doing, noun="ticket")
    return ticket


def _resume_clock(session: Session, ticket: Ticket, now: datetime) -> None:
    """End a pause: add its length, on the ticket's clock, and move the resolution due times by it."""
    if ticket.paused_since is None:
        return
    calendar = calendar_of(session)
    ticket.paused_seconds += sla_clocks.elapsed_seconds(ticket.clock, calendar, ticket.paused_since, now)
    ticket.paused_since = None
    _recompute_due_times(session, ticket)


def _recompute_due_times(session: Session, ticket: Ticket) -> None:
    due = sla_clocks.due_times(
        ticket.clock,
        calendar_of(session),
        opened_at=ticket.created_at,
        response_minutes=ticket.response_minutes,
        resolution_minutes=ticket.resolution_minutes,
        paused_seconds=ticket.paused_seconds,
    )
    ticket.response_due_at, ticket.resolution_due_at, ticket.escalation_due_at = (
        due.response,
        due.resolution,
        due.escalation,
    )


def acknowledge(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Ticket:
    """The operations center takes the ticket: the response clock stops; unassigned, it is now the actor's."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="acknowledge", allowed=(S.NEW,)
    )
    now = utcnow()
    with _step(session, ticket, actor=actor, action="acknowledge", now=now):
        ticket.status, ticket.responded_at = S.ACKNOWLEDGED, now
        if ticket.assignee_id is None:
            ticket.assignee_id = actor.user_id
    notices.tell(session, ticket, Notice.TICKET_ACKNOWLEDGED, actor=actor)
    return ticket


def start(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Ticket:
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="start", allowed=(S.ACKNOWLEDGED,)
    )
    with _step(session, ticket, actor=actor, action="start", now=utcnow()):
        ticket.status = S.IN_PROGRESS
    return ticket


def pend(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, question: str) -> Ticket:
    """Wait for the department, asking it ``question``: the resolution clock stands still meanwhile."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="pend", allowed=(S.IN_PROGRESS,)
    )
    now = utcnow()
    with _step(session, ticket, actor=actor, action="pend", now=now):
        ticket.status, ticket.pending_question, ticket.paused_since = S.PENDING_CUSTOMER, question, now
    notices.tell(session, ticket, Notice.TICKET_PENDING_CUSTOMER, actor=actor, detail=f"问题：{question}")
    return ticket


def resume(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Ticket:
    """Back to work (the department answered): the resolution due times move by the time waited."""
    ticket = _locked(
        session,
        ticket_id,
        actor=actor,
        expected_version=expected_version,
        doing="resume",
        allowed=(S.PENDING_CUSTOMER,),
    )
    now = utcnow()
    with _step(session, ticket, actor=actor, action="resume", now=now):
        _resume_clock(session, ticket, now)
        ticket.status = S.IN_PROGRESS
    return ticket


def resolve(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, note: str) -> Ticket:
    """Resolved, saying how: the department confirms (close) or reopens; else it closes itself after five
    working days."""
    ticket = _locked(
        session,
        ticket_id,
        actor=actor,
        expected_version=expected_version,
        doing="resolve",
        allowed=(S.IN_PROGRESS, S.PENDING_CUSTOMER),
    )
    now = utcnow()
    with _step(session, ticket, actor=actor, action="resolve", now=now):
        ticket.status, ticket.resolved_at, ticket.resolution_note = S.RESOLVED, now, note
        if ticket.paused_since is None:  # from pending_customer the pause simply goes on
            ticket.paused_since = now
        ticket.auto_close_at = auto_close_time(session, now)
    notices.tell(session, ticket, Notice.TICKET_RESOLVED, actor=actor, detail=f"处理说明：{note}")
    return ticket


def auto_close_time(session: Session, resolved_at: datetime) -> datetime:
    """When a ticket resolved at ``resolved_at`` closes itself: five working days later. While the calendar does
    not know those days yet, the earliest it could be (five calendar days); the sweep asks again then."""
    try:
        return sla_clocks.auto_close_at(calendar_of(session)(), resolved_at)
    except CalendarUnknown:
        return resolved_at + timedelta(days=sla_clocks.AUTO_CLOSE_WORKING_DAYS)


def close(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Ticket:
    """The department confirms the resolution."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="close", allowed=(S.RESOLVED,)
    )
    _close(session, ticket, actor=actor, action="close", now=utcnow())
    return ticket


def auto_close(session: Session, ticket: Ticket, *, actor: Actor, now: datetime) -> bool:
    """Close a resolved ticket whose department said nothing for five working days (the sweep; row locked).

    Its ``auto_close_at`` is checked on the calendar first: one set while the calendar lacked those days was
    only the earliest possible time; it moves to the real one (or, still unknown, a day on) and the ticket
    stays resolved. True when it closed.
    """
    assert ticket.resolved_at is not None  # every resolved ticket has it
    try:
        due = sla_clocks.auto_close_at(calendar_of(session)(), ticket.resolved_at)
    except CalendarUnknown:
        due = now + timedelta(days=1)
    if due > now:
        ticket.auto_close_at = due
        session.flush()
        return False
    _close(session, ticket, actor=actor, action="auto_close", now=now)
    return True


def _close(session: Session, ticket: Ticket, *, actor: Actor, action: str, now: datetime) -> None:
    with _step(session, ticket, actor=actor, action=action, now=now):
        ticket.status, ticket.closed_at, ticket.auto_close_at = S.CLOSED, now, None


def reopen(session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, reason: str) -> Ticket:
    """The department says it is not solved, within ten days of the resolution: back in progress, the clock
    running again from where it stood at the resolution."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="reopen", allowed=(S.RESOLVED,)
    )
    now = utcnow()
    assert ticket.resolved_at is not None  # every resolved ticket has it
    if not sla_clocks.may_reopen(ticket.resolved_at, now):
        raise Conflict(
            f"Ticket {ticket.number} was resolved at {ticket.resolved_at.isoformat()}: it may be reopened within "
            f"{sla_clocks.REOPEN_WINDOW.days} days of that; open a new ticket."
        )
    with _step(session, ticket, actor=actor, action="reopen", now=now):
        _resume_clock(session, ticket, now)
        ticket.status, ticket.reopen_count, ticket.reopen_reason = S.IN_PROGRESS, ticket.reopen_count + 1, reason
        ticket.resolved_at, ticket.auto_close_at = None, None
    return ticket


def assign(
    session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, assignee_id: uuid.UUID | None
) -> Ticket:
    """Give the ticket to a user of the operations center (None: to nobody)."""
    ticket = _locked(session, ticket_id, actor=actor, expected_version=expected_version, doing="assign", allowed=OPEN)
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        organization = session.get(Organization, user.organization_id) if user is not None else None
        if user is None or organization is None or organization.kind != OrgKind.OPERATOR or user.role != Role.OPERATOR:
            raise InvalidInput("assignee_id", "no such user of the operations center")
        if not user.is_active:
            raise InvalidInput("assignee_id", "the user is deactivated")
    with _step(session, ticket, actor=actor, action="assign", now=utcnow()):
        ticket.assignee_id = assignee_id
    return ticket


def reprioritize(
    session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, priority: Priority
) -> Ticket:
    """A new priority: its targets from the contract's terms, the due times computed again from creation, and
    the breaches judged again against them (a breach the new due times do not make is no breach)."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="reprioritize", allowed=OPEN
    )
    target = target_of(session, ticket.contract_id, priority)
    now = utcnow()
    before = (ticket.response_breached_at, ticket.resolution_breached_at)
    with audit.change(session, actor=actor, action="ticket.reprioritize", row=ticket):
        ticket.priority, ticket.clock = priority, target.clock
        ticket.response_minutes, ticket.resolution_minutes = target.response_minutes, target.resolution_minutes
        _recompute_due_times(session, ticket)
        responded = ticket.responded_at or now
        ticket.response_breached_at = ticket.response_due_at if ticket.response_due_at < responded else None
        # The resolution clock last ran until the pause began, or runs still.
        clock_stop = ticket.paused_since if ticket.status in CLOCK_PAUSED and ticket.paused_since else now
        ticket.resolution_breached_at = ticket.resolution_due_at if ticket.resolution_due_at < clock_stop else None
        ticket.escalated_at = ticket.escalation_due_at if ticket.escalation_due_at < clock_stop else None
    session.flush()
    after = (ticket.response_breached_at, ticket.resolution_breached_at)
    for kind, was, now_is in zip((BreachKind.RESPONSE, BreachKind.RESOLUTION), before, after, strict=True):
        if was is None and now_is is not None:
            TICKET_BREACHES.labels(kind=kind.value).inc()
    return ticket


def rate_satisfaction(
    session: Session, ticket_id: uuid.UUID, *, actor: Actor, expected_version: int, score: int, comment: str
) -> Ticket:
    """After close, the department's 1–5 and a comment, once."""
    ticket = _locked(
        session, ticket_id, actor=actor, expected_version=expected_version, doing="rate", allowed=(S.CLOSED,)
    )
    if ticket.satisfaction_score is not None:
        raise Conflict(
            f"Ticket {ticket.number} was rated already ({ticket.satisfaction_score}/5); a rating is given once."
        )
    with _step(session, ticket, actor=actor, action="satisfaction", now=utcnow()):
        ticket.satisfaction_score, ticket.satisfaction_comment, ticket.satisfaction_at = score, comment, utcnow()
    return ticket
