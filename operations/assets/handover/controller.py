import uuid
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody
from litestar.response import Stream

from operations.assets.handover import exports, flows, service
from operations.assets.handover.models import (
    MAX_UPLOAD_BYTES,
    HandoverBatch,
    HandoverBatchCreate,
    HandoverBatchPublic,
    HandoverItemPublic,
    HandoverItemsIn,
    HandoverStatus,
    InspectionIn,
    InspectionReport,
    InspectionResult,
    SignatureIn,
)
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.idempotency.web import OptionalIdempotencyKey, idempotent_post
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.money import from_fen
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Exporting, Paging, UploadLimits, get, post, respond

Answer = Response[HandoverBatchPublic]


def _answer(batch: HandoverBatch, *, created: bool = False) -> Answer:
    return respond(
        HandoverBatchPublic.model_validate(batch), created=f"/api/v1/handovers/{batch.id}" if created else None
    )


class HandoverController(Controller):
    path = "/api/v1/handovers"
    tags = ["handovers"]
    guards = [allow(*BUSINESS_ROLES)]

    @idempotent_post(
        "/",
        key_required=False,
        guards=[allow(Role.DEPARTMENT)],
        description="A draft batch for the caller's department. With an `Idempotency-Key`, a retry returns the "
        "first answer and creates nothing more.",
    )
    def create(
        self,
        session: DbSession,
        actor: CurrentActor,
        data: JSONBody[HandoverBatchCreate],
        idempotency_key: OptionalIdempotencyKey,
    ) -> Answer:
        return _answer(service.create_batch(session, data, actor=actor), created=True)

    @get("/", description="A department sees its own batches; the operations center sees submitted ones.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: AnyOf[HandoverStatus] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[HandoverBatchPublic]:
        rows = service.list_batches(session, actor=actor, page=page, status=status, department_id=department_id)
        return rows.page_of([HandoverBatchPublic.model_validate(row) for row in rows])

    @get("/{batch_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, batch_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(service.get_batch(session, batch_id, actor=actor))

    @get("/{batch_id:uuid}/items", description="The inventory in the order it was listed.")
    def items(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        page: Paging,
        result: AnyOf[InspectionResult] = None,
    ) -> CursorPage[HandoverItemPublic]:
        batch = service.get_batch(session, batch_id, actor=actor)
        rows = service.list_items(session, batch, page=page, result=result)
        public = [
            HandoverItemPublic.model_validate(row, update={"original_value": from_fen(row.original_value_fen)})
            for row in rows
        ]
        return rows.page_of(public)

    @post(
        "/{batch_id:uuid}/items",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        description="Add items to a draft: all of them, or none with every problem named.",
    )
    def add_items(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[HandoverItemsIn],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(service.add_items(session, batch_id, data, actor=actor, expected_version=expected_version))

    @post(
        "/{batch_id:uuid}/items/import",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        request_max_body_size=MAX_UPLOAD_BYTES,
        description="The request body is the file itself (`curl --data-binary @inventory.csv`): CSV in UTF-8 (with "
        "or without BOM) or GB18030, or XLSX; a header row with Chinese or English column names; at most 16 MiB, "
        "20,000 rows below the header (blank ones included), 100 columns, 32,768 characters in a cell, and for a "
        "workbook 48 MiB unpacked (the server's OPSCENTER_UPLOAD_* settings may say otherwise). A bad file is "
        "answered 422 naming its problems (line, column, message; the first 200, and `error_count` when there "
        "are more), and nothing is added.",
    )
    def import_items(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        body: RawBody,
        expected_version: ExpectedVersion,
        limits: UploadLimits,
    ) -> Answer:
        return _answer(
            service.import_items(session, batch_id, body, actor=actor, expected_version=expected_version, limits=limits)
        )

    @post("/{batch_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(
        self, session: DbSession, actor: CurrentActor, batch_id: FromPath[uuid.UUID], expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(flows.submit(session, batch_id, actor=actor, expected_version=expected_version))

    @post("/{batch_id:uuid}/cancel", guards=[allow(Role.DEPARTMENT)], status_code=200, description="Only a draft.")
    def cancel(
        self, session: DbSession, actor: CurrentActor, batch_id: FromPath[uuid.UUID], expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(flows.cancel(session, batch_id, actor=actor, expected_version=expected_version))

    @post(
        "/{batch_id:uuid}/inspect",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="Accept or reject items (a rejection needs a defect note); each item is decided once.",
    )
    def inspect(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[InspectionIn],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(flows.inspect(session, batch_id, data, actor=actor, expected_version=expected_version))

    @get("/{batch_id:uuid}/inspection-report", description="Counts overall and by kind, and every defect.")
    def inspection_report(
        self, session: DbSession, actor: CurrentActor, batch_id: FromPath[uuid.UUID]
    ) -> InspectionReport:
        return service.inspection_report(session, service.get_batch(session, batch_id, actor=actor))

    @post(
        "/{batch_id:uuid}/sign",
        guards=[allow(Role.DEPARTMENT, Role.OPERATOR, Role.BUREAU)],
        status_code=200,
        description="Sign for your party once inspection is complete; the third signature completes the handover. "
        "If-Match may carry any ETag read since inspection completed: other parties' signatures do not "
        "make it stale.",
    )
    def sign(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
        data: JSONBody[SignatureIn | None] = None,
    ) -> Answer:
        comment = data.comment if data is not None else ""
        return _answer(flows.sign(session, batch_id, actor=actor, expected_version=expected_version, comment=comment))

    @get(
        "/{batch_id:uuid}/inventory",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The inventory with inspection results, as CSV or XLSX.",
    )
    def inventory(
        self,
        session: DbSession,
        actor: CurrentActor,
        batch_id: FromPath[uuid.UUID],
        exporting: Exporting,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        batch = service.get_batch(session, batch_id, actor=actor)
        return exports.inventory_file(exporting, batch, file_format=file_format)
