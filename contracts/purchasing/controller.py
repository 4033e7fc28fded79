import uuid
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from contracts.purchasing import exports, flows, service
from contracts.purchasing.models import PurchaseRequestIn, PurchaseRequestPublic, PurchaseStatus
from contracts.purchasing.service import RequestSort
from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.idempotency.web import OptionalIdempotencyKey, idempotent_post
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Exporting, Paging, get, post, put, respond
from opscenter.workflow import ApproveBody, RejectBody, ReturnBody, approval_note

Answer = Response[PurchaseRequestPublic]


def _answer(request: object, *, created: bool = False) -> Answer:
    public = PurchaseRequestPublic.model_validate(request)
    return respond(public, created=f"/api/v1/purchase-requests/{public.id}" if created else None)


class PurchaseRequestController(Controller):
    path = "/api/v1/purchase-requests"
    tags = ["purchase requests"]
    guards = [allow(*BUSINESS_ROLES)]

    @idempotent_post(
        "/",
        key_required=False,
        guards=[allow(Role.DEPARTMENT)],
        description="A draft for the caller's department. With an `Idempotency-Key`, a retry returns the first "
        "answer and creates nothing more.",
    )
    def create(
        self,
        session: DbSession,
        actor: CurrentActor,
        data: JSONBody[PurchaseRequestIn],
        idempotency_key: OptionalIdempotencyKey,
    ) -> Answer:
        return _answer(service.create_request(session, data, actor=actor), created=True)

    @get(
        "/",
        description="Departments see their own; the operations center sees approved ones. `sort`: `newest` (the "
        "default), `oldest` or `title`. `q`: a part of the title or of the decision's note, case-insensitive.",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: AnyOf[PurchaseStatus] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
        q: SearchQuery = None,
        sort: FromQuery[RequestSort] = RequestSort.NEWEST,
    ) -> CursorPage[PurchaseRequestPublic]:
        rows = service.list_requests(
            session, actor=actor, page=page, status=status, department_id=department_id, q=q, sort=sort
        )
        return rows.page_of([PurchaseRequestPublic.model_validate(row) for row in rows])

    @get(
        "/export",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The requests the list would show, with its filters, as CSV (UTF-8 with BOM) or XLSX: one row "
        "per requested item, Chinese headers, departments, services and approvers by name, amounts as money. "
        "Departments export their own.",
    )
    def export(
        self,
        actor: CurrentActor,
        exporting: Exporting,
        status: AnyOf[PurchaseStatus] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
        q: SearchQuery = None,
        sort: FromQuery[RequestSort] = RequestSort.NEWEST,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        return exports.requests_file(
            exporting, actor=actor, status=status, department_id=department_id, q=q, sort=sort, file_format=file_format
        )

    @get("/{request_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, request_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(service.get_request(session, request_id, actor=actor))

    @put("/{request_id:uuid}", guards=[allow(Role.DEPARTMENT)], description="Only while draft or returned.")
    def replace(
        self,
        session: DbSession,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[PurchaseRequestIn],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(
            service.replace_request(session, request_id, data, actor=actor, expected_version=expected_version)
        )

    @post("/{request_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(
        self,
        session: DbSession,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(flows.submit(session, request_id, actor=actor, expected_version=expected_version))

    @post(
        "/{request_id:uuid}/approve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="Reserves the estimated cost in the department's budget; 409 naming the shortfall.",
    )
    def approve(
        self,
        session: DbSession,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
        data: JSONBody[ApproveBody | None] = None,
    ) -> Answer:
        note = approval_note(data)
        return _answer(flows.approve(session, request_id, actor=actor, expected_version=expected_version, note=note))

    @post(
        "/{request_id:uuid}/reject", guards=[allow(Role.BUREAU)], status_code=200, description="A reason is required."
    )
    def reject(
        self,
        session: DbSession,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[RejectBody],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(
            flows.reject(session, request_id, actor=actor, expected_version=expected_version, reason=data.reason)
        )

    @post(
        "/{request_id:uuid}/return", guards=[allow(Role.BUREAU)], status_code=200, description="A comment is required."
    )
    def send_back(
        self,
        session: DbSession,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[ReturnBody],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(
            flows.send_back(session, request_id, actor=actor, expected_version=expected_version, comment=data.comment)
        )

    @get("/{request_id:uuid}/history", description="Every step of this request, oldest first.")
    def history(
        self, session: DbSession, actor: CurrentActor, request_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_request(session, request_id, actor=actor), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])
