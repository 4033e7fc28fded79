"""Tickets as records: opening, reading, listing, comments, and the resolution breaches billing charges.

The workflow (acknowledge … close, reopen) lives in flows.py; the clock arithmetic in sla_clocks.py.
A department sees only its own tickets (another department's is 404, as if absent); the operations
center, the bureau and auditors see all. Internal notes are for the operations center (and auditors).
"""

import enum
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.agreements import service as agreements
from contracts.instances import service as instances
from contracts.instances.models import InstanceStatus
from contracts.terms import Priority, TicketTarget
from operations.assets.register import service as assets
from operations.tickets import notices
from operations.tickets.models import (
    TICKET_SERIAL,
    CommentIn,
    ResolutionBreach,
    Ticket,
    TicketAsset,
    TicketComment,
    TicketCreate,
    TicketPublic,
    TicketStatus,
)
from operations.tickets.sla_clocks import BusinessCalendar, CalendarSource, due_times
from opscenter.audit import service as audit
from opscenter.calendar.service import working_calendar
from opscenter.db import insert_new
from opscenter.errors import Forbidden, InvalidInput, NotFound
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.names import name_fields
from opscenter.notifications.models import NotificationKind
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.search import haystack, matches
from opscenter.timekeeping import Period, business_date, utcnow


def _scoped(query: SelectOfScalar[Ticket], actor: Actor) -> SelectOfScalar[Ticket]:
    """A department sees its own tickets; the operations center, the bureau and auditors see all."""
    return query.where(Ticket.department_id == actor.required_organization_id) if actor.is_department else query


def sees_internal_notes(actor: Actor) -> bool:
    """Internal notes are the operations center's; auditors read everything."""
    return actor.is_operator or actor.is_auditor or actor.is_system


def calendar_of(session: Session) -> CalendarSource:
    """The working calendar, fetched (once) only when a business clock needs it."""
    fetched: list[BusinessCalendar] = []

    def source() -> BusinessCalendar:
        if not fetched:
            fetched.append(working_calendar(session))
        return fetched[0]

    return source


def target_of(session: Session, contract_id: uuid.UUID, priority: Priority) -> TicketTarget:
    """The response and resolution targets the contract's terms in force give ``priority``."""
    return agreements.terms_in_force(session, contract_id).ticket_targets[priority]


# Opened at these priorities, a ticket is announced to the operations center at once.
URGENT = frozenset({Priority.P1, Priority.P2})


def open_ticket(session: Session, data: TicketCreate, *, actor: Actor) -> Ticket:
    """Open a ticket on an instance: a department on one of its own, the operations center on any.

    Its due times follow from the terms of the contract behind the instance. A business-clock target that
    needs a year the working calendar does not know is refused, naming the year.
    """
    if not (actor.is_department or actor.is_operator):
        raise Forbidden("Only a department or the operations center opens tickets.")
    try:
        instance = instances.get_instance(session, data.service_instance_id, actor=actor)
    except NotFound:
        raise InvalidInput("service_instance_id", "no such service instance") from None
    if instance.status != InstanceStatus.ACTIVE:
        raise InvalidInput("service_instance_id", "the service instance is decommissioned")
    linked = assets.assets_for_linking(session, data.asset_ids, actor=actor) if data.asset_ids else []
    target = target_of(session, instance.contract_id, data.priority)
    now = utcnow()
    due = due_times(
        target.clock,
        calendar_of(session),
        opened_at=now,
        response_minutes=target.response_minutes,
        resolution_minutes=target.resolution_minutes,
    )
    serial = _next_serial(session)
    ticket = Ticket(
        kind=data.kind,
        priority=data.priority,
        title=data.title,
        description=data.description,
        number=f"T-{business_date(now).year}-{serial:06d}",
        serial=serial,
        service_instance_id=instance.id,
        department_id=instance.department_id,
        contract_id=instance.contract_id,
        line_no=instance.line_no,
        opened_by_id=actor.user_id,
        clock=target.clock,
        response_minutes=target.response_minutes,
        resolution_minutes=target.resolution_minutes,
        response_due_at=due.response,
        resolution_due_at=due.resolution,
        escalation_due_at=due.escalation,
        created_at=now,
        updated_at=now,
    )
    insert_new(session, [ticket, *(TicketAsset(ticket_id=ticket.id, asset_id=asset.id) for asset in linked)])
    audit.record_create(session, actor=actor, action="ticket.open", row=ticket)
    if ticket.priority in URGENT:
        notices.tell(session, ticket, NotificationKind.TICKET_OPENED, actor=actor)
    session.flush()
    return ticket


def _next_serial(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return int(session.execute(select(TICKET_SERIAL.next_value())).scalar_one())
    # SQLite: this write transaction holds the database's write lock (BEGIN IMMEDIATE), so max + 1 is ours.
    return int(session.execute(_NEXT_SERIAL_SQLITE).scalar_one())


_NEXT_SERIAL_SQLITE = select(func.coalesce(func.max(Ticket.serial), 0) + 1)  # built once, as every opening asks it


def get_ticket(session: Session, ticket_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Ticket:
    """A ticket the actor may see. ``for_update`` locks its row: a step decides on the state it sees, and the
    sweep (which marks breaches with conditional UPDATEs) waits for it instead of marking twice."""
    return get_visible(session, Ticket, ticket_id, actor=actor, scope=_scoped, noun="ticket", for_update=for_update)


class TicketSort(enum.StrEnum):
    NEWEST = "newest"
    CREATED = "created"  # the first name of newest, kept for the clients that send it
    OLDEST = "oldest"
    DUE = "due"  # the earliest resolution due time first
    PRIORITY = "priority"  # P1 first, newest first within a priority


class Assignee(enum.StrEnum):
    ME = "me"  # assigned to the caller
    NOBODY = "nobody"  # not assigned yet


OPEN_STATUSES = frozenset(TicketStatus) - {TicketStatus.RESOLVED, TicketStatus.CLOSED}
SEARCHED = haystack(col(Ticket.number), col(Ticket.title), col(Ticket.description))
_ORDERS = {
    TicketSort.NEWEST: (col(Ticket.id).desc(),),
    TicketSort.CREATED: (col(Ticket.id).desc(),),
    TicketSort.OLDEST: (col(Ticket.id),),
    TicketSort.DUE: (col(Ticket.resolution_due_at), col(Ticket.id)),
    TicketSort.PRIORITY: (col(Ticket.priority), col(Ticket.id).desc()),
}


@dataclass(frozen=True)
class TicketFilter:
    status: Collection[TicketStatus] | None = None
    priority: Collection[Priority] | None = None
    breached: bool | None = None  # a response or a resolution breach
    escalated: bool | None = None
    service_instance_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    assignee: Assignee | None = None
    open: bool | None = None  # not resolved or closed (True), or resolved or closed (False)
    q: str | None = None  # a part of the number, title or description


def list_tickets(
    session: Session, *, actor: Actor, page: PageRequest, filters: TicketFilter, sort: TicketSort = TicketSort.CREATED
) -> Slice[Ticket]:
    """In the order ``sort`` says (newest first by default), filtered by ``filters``."""
    query = _scoped(select(Ticket).order_by(*_ORDERS[sort]), actor)
    query = any_of(any_of(query, Ticket.status, filters.status), Ticket.priority, filters.priority)
    for column, value in (
        (Ticket.service_instance_id, filters.service_instance_id),
        (Ticket.department_id, filters.department_id),
        (Ticket.assignee_id, filters.assignee_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.breached is not None:
        breached = or_(col(Ticket.response_breached_at).is_not(None), col(Ticket.resolution_breached_at).is_not(None))
        query = query.where(breached if filters.breached else ~breached)
    if filters.escalated is not None:
        escalated = col(Ticket.escalated_at)
        query = query.where(escalated.is_not(None) if filters.escalated else escalated.is_(None))
    if filters.open is not None:
        status = col(Ticket.status)
        query = query.where(status.in_(OPEN_STATUSES) if filters.open else status.not_in(OPEN_STATUSES))
    if filters.assignee is Assignee.ME:
        query = query.where(Ticket.assignee_id == actor.user_id)
    elif filters.assignee is Assignee.NOBODY:
        query = query.where(col(Ticket.assignee_id).is_(None))
    if filters.q:
        query = query.where(matches(SEARCHED, filters.q))
    return keyset(session, query, page)


def find_ticket(session: Session, number: str, *, actor: Actor) -> Ticket | None:
    """The ticket with this number (T-2026-000123), when ``actor`` may see it (the console's search box)."""
    return session.exec(_scoped(select(Ticket).where(Ticket.number == number), actor)).first()


def to_public(
    session: Session, tickets: Sequence[Ticket], *, opened_with: Sequence[uuid.UUID] | None = None
) -> list[TicketPublic]:
    """The public answers of ``tickets``, with their linked assets: one query for the whole page.

    ``opened_with``: the ``asset_ids`` the one ticket of ``tickets`` was just opened with (``open_ticket`` links
    exactly those, or refuses), so its answer needs no query to read back the links it has just written.
    """
    linked: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if opened_with is not None:
        (ticket,) = tickets
        linked[ticket.id] = sorted(set(opened_with))
    elif tickets:
        links = session.exec(
            select(TicketAsset)
            .where(col(TicketAsset.ticket_id).in_([ticket.id for ticket in tickets]))
            .order_by(col(TicketAsset.asset_id))
        ).all()
        for link in links:
            linked[link.ticket_id].append(link.asset_id)
    return [TicketPublic.model_validate({**_loaded(ticket), "asset_ids": linked[ticket.id]}) for ticket in tickets]


_PUBLIC_COLUMNS = frozenset(TicketPublic.model_fields) - {"asset_ids"} - name_fields(TicketPublic)


def _loaded(ticket: Ticket) -> dict[str, object]:
    """The ticket's column values as loaded: validating from them, not through the ORM instance (SQLModel's
    attribute wrapper), halves the cost of a list page. An expired attribute is read (loaded) as usual."""
    values = vars(ticket)
    if values.keys() >= _PUBLIC_COLUMNS:
        return values
    return {name: getattr(ticket, name) for name in _PUBLIC_COLUMNS}


# ---- comments ----------------------------------------------------------------------------------------------------


def add_comment(session: Session, ticket_id: uuid.UUID, data: CommentIn, *, actor: Actor) -> TicketComment:
    """A comment by either side; an internal note (``internal``) only by the operations center."""
    ticket = get_ticket(session, ticket_id, actor=actor)
    if not (actor.is_department or actor.is_operator):
        raise Forbidden("Only the department and the operations center comment on tickets.")
    if data.internal and not actor.is_operator:
        raise InvalidInput("internal", "only the operations center writes internal notes")
    comment = TicketComment(
        ticket_id=ticket.id, author_id=actor.user_id, internal=data.internal, body=data.body, created_at=utcnow()
    )
    session.add(comment)
    action = "ticket.internal_note" if data.internal else "ticket.comment"
    audit.record_create(session, actor=actor, action=action, row=comment)
    session.flush()
    return comment


def list_comments(session: Session, ticket_id: uuid.UUID, *, actor: Actor, page: PageRequest) -> Slice[TicketComment]:
    """Oldest first; internal notes only for those who may read them."""
    ticket = get_ticket(session, ticket_id, actor=actor)
    query = select(TicketComment).where(TicketComment.ticket_id == ticket.id).order_by(col(TicketComment.id))
    if not sees_internal_notes(actor):
        query = query.where(col(TicketComment.internal).is_(False))
    return keyset(session, query, page)


# ---- for billing -------------------------------------------------------------------------------------------------


def resolution_breaches(
    session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None = None
) -> dict[tuple[uuid.UUID, int], list[ResolutionBreach]]:
    """The resolution breaches of ``period`` by (contract_id, line_no) of the tickets' instances, oldest first.

    A breach belongs to the month (Asia/Shanghai) in which its resolution due time passed with the ticket
    unresolved; that instant is its breach time. One indexed query, whatever the number of contracts.
    ``contract_ids`` None: every contract.
    """
    if contract_ids is not None and not contract_ids:
        return {}
    start, end = period.bounds()
    breached_at = col(Ticket.resolution_breached_at)
    query = (
        sa_select(
            col(Ticket.id),
            col(Ticket.number),
            col(Ticket.priority),
            breached_at,
            col(Ticket.contract_id),
            col(Ticket.line_no),
        )
        .where(breached_at >= start, breached_at < end)
        .order_by(breached_at, col(Ticket.id))
    )
    if contract_ids is not None:
        query = query.where(col(Ticket.contract_id).in_(list(contract_ids)))
    found: dict[tuple[uuid.UUID, int], list[ResolutionBreach]] = defaultdict(list)
    for ticket_id, number, priority, due_at, contract_id, line_no in session.execute(query).all():
        assert due_at is not None  # the WHERE clause
        found[(contract_id, line_no)].append(ResolutionBreach(ticket_id, number, priority, due_at))
    return dict(found)


@dataclass(frozen=True)
class SatisfactionSummary:
    """The satisfaction departments gave in a month: how many scores (1–5) and their mean."""

    count: int
    mean: Decimal | None  # rounded half up to 0.01; None when nobody rated


def satisfaction_summary(
    session: Session,
    *,
    period: Period | None = None,
    service_instance_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
) -> SatisfactionSummary:
    """Satisfaction scores given in ``period`` (Asia/Shanghai; None: ever), of one instance or all, of one
    department's tickets or everyone's: for the monthly figures beside the ratings."""
    query = select(func.count(col(Ticket.satisfaction_score)), func.sum(col(Ticket.satisfaction_score)))
    if period is not None:
        start, end = period.bounds()
        given = col(Ticket.satisfaction_at)
        query = query.where(given >= start, given < end)
    if service_instance_id is not None:
        query = query.where(Ticket.service_instance_id == service_instance_id)
    if department_id is not None:
        query = query.where(Ticket.department_id == department_id)
    count, total = session.exec(query).one()
    if not count or total is None:
        return SatisfactionSummary(0, None)
    mean = (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return SatisfactionSummary(int(count), mean)
