"""Tickets under SLA clocks: opening, the workflow actions, comments and internal notes, lists."""

import uuid
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from contracts.terms import Priority
from operations.tickets import exports, flows, service
from operations.tickets.models import (
    Assignment,
    CommentIn,
    CommentPublic,
    Question,
    ReopenReason,
    Reprioritization,
    SatisfactionIn,
    Ticket,
    TicketCreate,
    TicketPublic,
    TicketResolution,
    TicketStatus,
)
from operations.tickets.service import Assignee, TicketFilter, TicketSort
from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.idempotency.web import IdempotencyKey, OptionalIdempotencyKey, idempotent_post
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, SERVICE_PARTIES, allow
from opscenter.identity.models import Role
from opscenter.openapi import FILE_DOWNLOAD, LOCATION
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Exporting, Paging, get, post, respond

Answer = Response[TicketPublic]
TicketId = FromPath[uuid.UUID]


def _answer(session: DbSession, ticket: Ticket) -> Answer:
    return respond(service.to_public(session, [ticket])[0])


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]
    guards = [allow(*BUSINESS_ROLES)]

    @idempotent_post(
        "/",
        guards=[allow(*SERVICE_PARTIES)],
        summary="Open a ticket",
        description="A department opens tickets on its own service instances, the operations center on any. "
        "The response and resolution due times follow from the terms of the contract behind the instance "
        "(its priority's targets, on the 7×24 or the business clock). A business-clock due time in a year "
        "the working calendar does not know is refused, naming the year. Requires `Idempotency-Key`.",
    )
    def create(
        self, session: DbSession, actor: CurrentActor, data: JSONBody[TicketCreate], idempotency_key: IdempotencyKey
    ) -> Answer:
        ticket = service.open_ticket(session, data, actor=actor)
        public = service.to_public(session, [ticket], opened_with=data.asset_ids)[0]
        return respond(public, created=f"/api/v1/tickets/{ticket.id}")

    @get(
        "/",
        description="Departments see their own. `sort`: `newest` (the default; `created` says the same), `oldest`, "
        "`due` (the earliest resolution due first) or `priority` (P1 first, newest first within a priority). "
        "`q`: a part of the number, title or description, case-insensitive. `open=true`: not resolved or closed. "
        "`assignee=me`: assigned to you; `assignee=nobody`: not assigned yet.",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: AnyOf[TicketStatus] = None,
        priority: AnyOf[Priority] = None,
        breached: FromQuery[bool | None] = None,
        escalated: FromQuery[bool | None] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
        assignee_id: FromQuery[uuid.UUID | None] = None,
        assignee: FromQuery[Assignee | None] = None,
        open: FromQuery[bool | None] = None,
        q: SearchQuery = None,
        sort: FromQuery[TicketSort] = TicketSort.NEWEST,
    ) -> CursorPage[TicketPublic]:
        filters = TicketFilter(
            status=status,
            priority=priority,
            breached=breached,
            escalated=escalated,
            service_instance_id=service_instance_id,
            department_id=department_id,
            assignee_id=assignee_id,
            assignee=assignee,
            open=open,
            q=q,
        )
        rows = service.list_tickets(session, actor=actor, page=page, filters=filters, sort=sort)
        return rows.page_of(service.to_public(session, rows.rows))

    @get(
        "/export",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The tickets the list would show, with its filters and order, as CSV (UTF-8 with BOM) or XLSX: "
        "Chinese headers, each ticket's SLA due times, when it was answered and resolved, and its breaches; "
        "departments, instances and assignees by name. Departments export their own.",
    )
    def export(
        self,
        actor: CurrentActor,
        exporting: Exporting,
        status: AnyOf[TicketStatus] = None,
        priority: AnyOf[Priority] = None,
        breached: FromQuery[bool | None] = None,
        escalated: FromQuery[bool | None] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
        assignee_id: FromQuery[uuid.UUID | None] = None,
        assignee: FromQuery[Assignee | None] = None,
        open: FromQuery[bool | None] = None,
        q: SearchQuery = None,
        sort: FromQuery[TicketSort] = TicketSort.NEWEST,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        filters = TicketFilter(
            status=status,
            priority=priority,
            breached=breached,
            escalated=escalated,
            service_instance_id=service_instance_id,
            department_id=department_id,
            assignee_id=assignee_id,
            assignee=assignee,
            open=open,
            q=q,
        )
        return exports.tickets_file(exporting, actor=actor, filters=filters, sort=sort, file_format=file_format)

    @get("/{ticket_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, ticket_id: TicketId) -> Answer:
        return _answer(session, service.get_ticket(session, ticket_id, actor=actor))

    @post(
        "/{ticket_id:uuid}/acknowledge",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="new → acknowledged: the response clock stops; an unassigned ticket becomes the caller's.",
    )
    def acknowledge(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(session, flows.acknowledge(session, ticket_id, actor=actor, expected_version=expected_version))

    @post(
        "/{ticket_id:uuid}/start",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="acknowledged → in_progress.",
    )
    def start(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(session, flows.start(session, ticket_id, actor=actor, expected_version=expected_version))

    @post(
        "/{ticket_id:uuid}/pend",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="in_progress → pending_customer, asking the department a question: the resolution clock "
        "stands still until it resumes.",
    )
    def pend(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[Question],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.pend(session, ticket_id, actor=actor, expected_version=expected_version, question=data.question)
        return _answer(session, ticket)

    @post(
        "/{ticket_id:uuid}/resume",
        guards=[allow(*SERVICE_PARTIES)],
        status_code=200,
        description="pending_customer → in_progress (the department answered, in a comment): the resolution due "
        "times move by the time waited, measured on the ticket's clock.",
    )
    def resume(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(session, flows.resume(session, ticket_id, actor=actor, expected_version=expected_version))

    @post(
        "/{ticket_id:uuid}/resolve",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="in_progress or pending_customer → resolved, with a resolution note. Closes itself five "
        "working days later unless the department closes or reopens it.",
    )
    def resolve(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[TicketResolution],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.resolve(session, ticket_id, actor=actor, expected_version=expected_version, note=data.note)
        return _answer(session, ticket)

    @post(
        "/{ticket_id:uuid}/close",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        description="resolved → closed: the department confirms the resolution.",
    )
    def close(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(session, flows.close(session, ticket_id, actor=actor, expected_version=expected_version))

    @post(
        "/{ticket_id:uuid}/reopen",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        description="resolved → in_progress, within ten days of the resolution, saying why.",
    )
    def reopen(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[ReopenReason],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.reopen(session, ticket_id, actor=actor, expected_version=expected_version, reason=data.reason)
        return _answer(session, ticket)

    @post(
        "/{ticket_id:uuid}/assign",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="To a user of the operations center, or to nobody (null), while the ticket is open.",
    )
    def assign(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[Assignment],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.assign(
            session, ticket_id, actor=actor, expected_version=expected_version, assignee_id=data.assignee_id
        )
        return _answer(session, ticket)

    @post(
        "/{ticket_id:uuid}/reprioritize",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="A new priority while open: its targets from the contract, the due times computed again "
        "from creation, the breaches judged again.",
    )
    def reprioritize(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[Reprioritization],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.reprioritize(
            session, ticket_id, actor=actor, expected_version=expected_version, priority=data.priority
        )
        return _answer(session, ticket)

    @post(
        "/{ticket_id:uuid}/satisfaction",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        description="After close, the department's satisfaction, 1–5, and a comment; once.",
    )
    def satisfaction(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[SatisfactionIn],
        expected_version: ExpectedVersion,
    ) -> Answer:
        ticket = flows.rate_satisfaction(
            session, ticket_id, actor=actor, expected_version=expected_version, score=data.score, comment=data.comment
        )
        return _answer(session, ticket)

    @idempotent_post(
        "/{ticket_id:uuid}/comments",
        key_required=False,
        guards=[allow(*SERVICE_PARTIES)],
        status_code=201,
        opt={LOCATION: "The ticket's comments: a GET of them lists the new one, oldest first."},
        description="A comment by either side; `internal: true` (an internal note) only by the operations center. "
        "With an `Idempotency-Key`, a retry returns the first answer and adds nothing more.",
    )
    def comment(
        self,
        session: DbSession,
        actor: CurrentActor,
        ticket_id: TicketId,
        data: JSONBody[CommentIn],
        idempotency_key: OptionalIdempotencyKey,
    ) -> Response[CommentPublic]:
        comment = CommentPublic.model_validate(service.add_comment(session, ticket_id, data, actor=actor))
        return respond(comment, created=f"/api/v1/tickets/{ticket_id}/comments")

    @get(
        "/{ticket_id:uuid}/comments",
        description="Oldest first. Internal notes only for the operations center (and auditors).",
    )
    def comments(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, page: Paging
    ) -> CursorPage[CommentPublic]:
        rows = service.list_comments(session, ticket_id, actor=actor, page=page)
        return rows.page_of([CommentPublic.model_validate(row) for row in rows])

    @get("/{ticket_id:uuid}/history", description="Every step of this ticket, oldest first.")
    def history(
        self, session: DbSession, actor: CurrentActor, ticket_id: TicketId, page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_ticket(session, ticket_id, actor=actor), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])
