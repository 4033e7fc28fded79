"""Billing over HTTP: runs, statements and their lifecycle, disputes, credit notes, exports and spend."""

import uuid
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from sqlmodel import Session

from billing.statements import exports, flows, runs, service
from billing.statements import spend as spending
from billing.statements.credit_notes.models import CreditNoteIn, CreditNotePublic
from billing.statements.disputes.models import DisputeIn, DisputePublic, DisputeResolution
from billing.statements.models import (
    BillingRunIn,
    BillingRunPublic,
    Payment,
    Statement,
    StatementDetail,
    StatementPublic,
    StatementStatus,
)
from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.db import WithinTransaction
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.idempotency.web import IdempotencyKey, idempotent_post
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, WITHOUT_OPERATIONS, allow
from opscenter.identity.models import Role
from opscenter.money import from_fen
from opscenter.openapi import ALSO_ANSWERS, FILE_DOWNLOAD, LOCATION
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.timekeeping import today
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, PeriodQuery, as_period, get, post, respond
from opscenter.workflow import ApproveBody, approval_note

Answer = Response[StatementDetail]


def _answer(session: Session, statement: Statement, actor: Actor) -> Answer:
    return respond(service.detail(session, statement, actor=actor))


class BillingController(Controller):
    path = "/api/v1/billing"
    tags = ["billing"]
    guards = [allow(*BUSINESS_ROLES)]

    @post(
        "/runs",
        guards=[allow(Role.BUREAU, Role.OPERATOR)],
        description="Generate the month's draft statements (one per contract in force, one line per contract "
        "line), or refresh the drafts of a second run; issued, approved and paid statements are left alone. "
        "The month must have ended (Asia/Shanghai).",
    )
    def run(self, session: DbSession, actor: CurrentActor, data: JSONBody[BillingRunIn]) -> Response[BillingRunPublic]:
        # the whole run in the request's one transaction
        result = runs.run_period(WithinTransaction(session), period=data.month, actor=actor)
        return respond(BillingRunPublic.model_validate(result.run), created=f"/api/v1/billing/runs/{result.run.id}")

    @get("/runs/{run_id:uuid}", guards=[allow(Role.BUREAU, Role.OPERATOR, Role.AUDITOR)])
    def read_run(self, session: DbSession, run_id: FromPath[uuid.UUID]) -> BillingRunPublic:
        return BillingRunPublic.model_validate(runs.get_run(session, run_id))

    @get(
        "/spend",
        guards=[allow(*WITHOUT_OPERATIONS)],
        description="Each department's spend in the fiscal (calendar) year, from approved and paid statements "
        "net of credit notes, against its budget. A department reads its own.",
    )
    def spend(
        self,
        session: DbSession,
        actor: CurrentActor,
        fiscal_year: Annotated[
            int | None, QueryParameter(ge=2000, le=2100, description="The calendar year; omitted: this year")
        ] = None,
    ) -> spending.SpendList:
        year = fiscal_year if fiscal_year is not None else today().year
        return spending.spend(session, fiscal_year=year, actor=actor)


class StatementController(Controller):
    path = "/api/v1/statements"
    tags = ["billing"]
    guards = [allow(*BUSINESS_ROLES)]

    @get(
        "/",
        description="Departments see issued statements of contracts they benefit from, with sums over their own "
        "lines; the operations center sees those it supplies. `sort`: `newest` (the default), `oldest` or "
        "`number` (the contract's). `q`: a part of the contract number, the period or the payment reference.",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        period: PeriodQuery = None,
        contract_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        status: AnyOf[StatementStatus] = None,
        q: SearchQuery = None,
        sort: Annotated[service.StatementSort, QueryParameter()] = service.StatementSort.NEWEST,
    ) -> CursorPage[StatementPublic]:
        rows = service.list_statements(
            session,
            actor=actor,
            page=page,
            period=as_period(period),
            contract_id=contract_id,
            status=status,
            q=q,
            sort=sort,
        )
        return rows.page_of(service.to_public(session, list(rows), actor=actor))

    @get("/{statement_id:uuid}", description="With its lines and their evidence, disputes and credit notes.")
    def read(self, session: DbSession, actor: CurrentActor, statement_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(session, service.get_statement(session, statement_id, actor=actor), actor)

    @get(
        "/{statement_id:uuid}/export",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The statement as CSV (UTF-8 with BOM) or XLSX, Chinese headers, the lines the reader may see "
        "(departments, services and instances by name; figures set by hand in a dispute marked as such) and their "
        "total: base, deductions, amount, credit notes and payable, to the fen as the API answers.",
    )
    def export(
        self,
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        detail = service.detail(session, service.get_statement(session, statement_id, actor=actor), actor=actor)
        return exports.statement_file(session, detail, file_format=file_format)

    @post("/{statement_id:uuid}/issue", guards=[allow(Role.OPERATOR)], status_code=200)
    def issue(
        self,
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Answer:
        statement = flows.issue(session, statement_id, actor=actor, expected_version=expected_version)
        return _answer(session, statement, actor)

    @post(
        "/{statement_id:uuid}/approve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="Freezes the statement and closes the month's ratings of the contract. 409 while a line lacks "
        "SLA data, is pending or disputed, or when it would take the contract over its ceiling.",
    )
    def approve(
        self,
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
        data: JSONBody[ApproveBody | None] = None,
    ) -> Answer:
        note = approval_note(data)
        statement = flows.approve(session, statement_id, actor=actor, expected_version=expected_version, note=note)
        return _answer(session, statement, actor)

    @post("/{statement_id:uuid}/pay", guards=[allow(Role.BUREAU)], status_code=200)
    def pay(
        self,
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        data: JSONBody[Payment],
        expected_version: ExpectedVersion,
    ) -> Answer:
        statement = flows.pay(
            session,
            statement_id,
            actor=actor,
            expected_version=expected_version,
            paid_on=data.paid_on,
            reference=data.reference,
        )
        return _answer(session, statement, actor)

    @post(
        "/{statement_id:uuid}/disputes",
        guards=[allow(Role.BUREAU, Role.DEPARTMENT)],
        description="Contest a line before approval (a department: one of its own lines). 409 while the line has "
        "an open dispute.",
    )
    def dispute(
        self, session: DbSession, actor: CurrentActor, statement_id: FromPath[uuid.UUID], data: JSONBody[DisputeIn]
    ) -> Response[DisputePublic]:
        created = flows.open_dispute(session, statement_id, data, actor=actor)
        return respond(DisputePublic.model_validate(created), created=f"/api/v1/disputes/{created.id}")

    @idempotent_post(
        "/{statement_id:uuid}/credit-notes",
        guards=[allow(Role.BUREAU, Role.OPERATOR)],
        opt={
            ALSO_ANSWERS: (404,),
            LOCATION: "The statement the note credits: a GET of it lists the note in `credit_notes`.",
        },
        description="A correction of an approved statement; all its credit notes together never exceed its total "
        "(409). Requires `Idempotency-Key`.",
    )
    def credit(
        self,
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        data: JSONBody[CreditNoteIn],
        idempotency_key: IdempotencyKey,
    ) -> Response[CreditNotePublic]:
        note = flows.post_credit_note(session, statement_id, data, actor=actor)
        public = CreditNotePublic.model_validate(note, update={"amount": from_fen(note.amount_fen)})
        return respond(public, created=f"/api/v1/statements/{statement_id}")

    @get("/{statement_id:uuid}/history", description="Every step of this statement, oldest first.")
    def history(
        self, session: DbSession, actor: CurrentActor, statement_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_statement(session, statement_id, actor=actor), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])


class DisputeController(Controller):
    path = "/api/v1/disputes"
    tags = ["billing"]
    guards = [allow(*BUSINESS_ROLES)]

    @get("/{dispute_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, dispute_id: FromPath[uuid.UUID]) -> Response[DisputePublic]:
        return respond(DisputePublic.model_validate(service.get_dispute(session, dispute_id, actor=actor)))

    @post(
        "/{dispute_id:uuid}/resolve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="Accept the line as billed, or set its availability or score by hand (with a reason): the line "
        "and the statement's sums are recomputed.",
    )
    def resolve(
        self,
        session: DbSession,
        actor: CurrentActor,
        dispute_id: FromPath[uuid.UUID],
        data: JSONBody[DisputeResolution],
        expected_version: ExpectedVersion,
    ) -> Response[DisputePublic]:
        resolved = flows.resolve_dispute(session, dispute_id, data, actor=actor, expected_version=expected_version)
        return respond(DisputePublic.model_validate(resolved))
