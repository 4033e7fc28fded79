"""The console's ticket pages: the operations center's board (queues by state and priority, SLA time left, breached
in red, escalated in amber, filters and search by number), and each ticket with its actions, comments and
history. A department sees its own tickets only (another's is a 404, as in the API) and confirms, reopens, answers
and rates them. The same flows, guards and scoping as the API's controller."""

import dataclasses
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, col, select

from contracts.terms import Priority
from operations.tickets import flows, service
from operations.tickets.models import CommentIn, Ticket, TicketStatus
from opscenter.audit import service as audit
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.identity.guards import BUSINESS_ROLES, SERVICE_PARTIES, allow
from opscenter.identity.models import Organization, Role
from opscenter.pages import AtDesk, Desk, Done, Form, act, refusal_text, render, version_of
from opscenter.timekeeping import utcnow
from opscenter.web import DbSession, get, post

PAGE = "/console/tickets"
_STEP_DONE = "已完成操作。"


def _text(data: dict[str, str], field: str) -> str:
    text = data.get(field, "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput(field, "请填写说明（至多 2000 字）")
    return text


def _score(data: dict[str, str]) -> int:
    text = data.get("score", "")
    if text not in {"1", "2", "3", "4", "5"}:
        raise InvalidInput("score", "请选择 1 到 5 分")
    return int(text)


# What each side may do to a ticket from the console, by the step's name: the flows of the API's actions.
Step = Callable[[Session, uuid.UUID, Actor, int, dict[str, str]], Ticket]
OPERATOR_STEPS: dict[str, Step] = {
    "acknowledge": lambda s, i, a, v, d: flows.acknowledge(s, i, actor=a, expected_version=v),
    "start": lambda s, i, a, v, d: flows.start(s, i, actor=a, expected_version=v),
    "pend": lambda s, i, a, v, d: flows.pend(s, i, actor=a, expected_version=v, question=_text(d, "text")),
    "resolve": lambda s, i, a, v, d: flows.resolve(s, i, actor=a, expected_version=v, note=_text(d, "text")),
    "resume": lambda s, i, a, v, d: flows.resume(s, i, actor=a, expected_version=v),
}
DEPARTMENT_STEPS: dict[str, Step] = {
    "resume": lambda s, i, a, v, d: flows.resume(s, i, actor=a, expected_version=v),
    "close": lambda s, i, a, v, d: flows.close(s, i, actor=a, expected_version=v),
    "reopen": lambda s, i, a, v, d: flows.reopen(s, i, actor=a, expected_version=v, reason=_text(d, "text")),
    "satisfaction": lambda s, i, a, v, d: flows.rate_satisfaction(
        s, i, actor=a, expected_version=v, score=_score(d), comment=d.get("text", "")[:2000]
    ),
}


def time_left(ticket: Ticket) -> str:
    """Until the resolution is due, as people read it; '已超时' once past (the due time already counts only the
    ticket's clock: business hours, or 7×24)."""
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return "—"
    seconds = int((ticket.resolution_due_at - utcnow()).total_seconds())
    if seconds <= 0:
        return "已超时"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} 小时 {minutes} 分" if hours else f"{minutes} 分"


def _departments(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(ids))).all()
    return dict(rows)


def _detail(desk: Desk, session: Session, ticket_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    """The ticket as it now stands; after a refused step (a stale page, a wrong state, a missing text), with what
    went wrong."""
    ticket = service.get_ticket(session, ticket_id, actor=desk.actor)
    first_page = dataclasses.replace(desk.page, limit=100, cursor=None)
    comments = service.list_comments(session, ticket_id, actor=desk.actor, page=first_page)
    return render(
        desk.request,
        "tickets/detail.html",
        status_code=refusal.status if refusal else 200,
        ticket=ticket,
        department=_departments(session, {ticket.department_id}).get(ticket.department_id, ""),
        left=time_left(ticket),
        comments=list(comments),
        history=list(audit.history(session, ticket, page=first_page)),
        notice=_STEP_DONE if desk.request.query_params.get("done") else "",
        problem=refusal_text(refusal) if refusal else "",
    )


def _act(desk: Desk, session: Session, ticket_id: uuid.UUID, step: Callable[[], Any]) -> Response[Any]:
    return act(session, step, then=f"{PAGE}/{ticket_id}", done="1", refused=partial(_detail, desk, session, ticket_id))


def _chosen(steps: dict[str, Step], data: dict[str, str]) -> Step:
    step = steps.get(data.get("step", ""))
    if step is None:
        raise InvalidInput("step", "不支持的操作")
    return step


class TicketPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def board(
        self,
        session: DbSession,
        desk: AtDesk,
        status: FromQuery[TicketStatus | None] = None,
        priority: FromQuery[Priority | None] = None,
        breached: FromQuery[bool | None] = None,
        escalated: FromQuery[bool | None] = None,
        number: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Most urgent first (the earliest resolution due); ``number`` finds one ticket by its number."""
        filters = service.TicketFilter(
            status=[status] if status else None,
            priority=[priority] if priority else None,
            breached=breached,
            escalated=escalated,
        )
        if number:
            found = service.find_ticket(session, number.strip(), actor=desk.actor)
            rows = [found] if found is not None else []
            next_cursor = None
        else:
            sliced = service.list_tickets(
                session, actor=desk.actor, page=desk.page, filters=filters, sort=service.TicketSort.DUE
            )
            rows, next_cursor = list(sliced), sliced.next_cursor
        return render(
            desk.request,
            "tickets/board.html",
            rows=rows,
            left={ticket.id: time_left(ticket) for ticket in rows},
            departments=_departments(session, {ticket.department_id for ticket in rows}),
            next_cursor=next_cursor,
            filters=filters,
            status=status,
            priority=priority,
            number=number or "",
            statuses=list(TicketStatus),
            priorities=list(Priority),
            query=desk.request.url.query,
        )

    @get("/{ticket_id:uuid}")
    def read(
        self, session: DbSession, desk: AtDesk, ticket_id: FromPath[uuid.UUID], done: Done = None
    ) -> Response[str]:
        return _detail(desk, session, ticket_id)

    @post("/{ticket_id:uuid}/operate", guards=[allow(Role.OPERATOR)], status_code=200)
    def operate(self, session: DbSession, desk: AtDesk, ticket_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        """The operations center's steps: acknowledge, start, ask the department (pend), resolve, resume."""
        return _act(desk, session, ticket_id, lambda: _chosen(OPERATOR_STEPS, data)(
            session, ticket_id, desk.actor, version_of(data), data
        ))  # fmt: skip

    @post("/{ticket_id:uuid}/confirm", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def confirm(self, session: DbSession, desk: AtDesk, ticket_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        """The department's steps: answer (resume), close, reopen, rate its satisfaction."""
        return _act(desk, session, ticket_id, lambda: _chosen(DEPARTMENT_STEPS, data)(
            session, ticket_id, desk.actor, version_of(data), data
        ))  # fmt: skip

    @post("/{ticket_id:uuid}/comments", guards=[allow(*SERVICE_PARTIES)], status_code=200)
    def comment(self, session: DbSession, desk: AtDesk, ticket_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, ticket_id, lambda: service.add_comment(
            session, ticket_id, CommentIn(body=_text(data, "text"), internal=data.get("internal") == "on"),
            actor=desk.actor,
        ))  # fmt: skip
