"""The console's handover pages: a department's batches (open one, upload its inventory as CSV or XLSX through the
same import as ``POST /handovers/{id}/items/import``, every row error shown in place, submit), the operations
center's inspection item by item, and each party's signature. The same services, flows, guards and scoping as the
API's controller; the version the page showed in every form."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated, Any

from litestar import Controller, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from sqlmodel import Session, col, select

from operations.assets.handover import flows, service
from operations.assets.handover.models import (
    MAX_UPLOAD_BYTES,
    HandoverBatch,
    HandoverBatchCreate,
    HandoverStatus,
    InspectionIn,
    InspectionResult,
    ItemDecision,
)
from opscenter.errors import DomainError, InvalidInput, InvalidRows
from opscenter.identity.actor import Actor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role
from opscenter.pages import AtDesk, Desk, Done, Form, act, refusal_text, render, version_of
from opscenter.sheets import Limits
from opscenter.web import DbSession, UploadLimits, get, post

PAGE = "/console/handovers"
ITEMS_SHOWN = 50
_DONE = {
    "create": "已创建接管批次，请上传资产清单。",
    "import": "资产清单已导入。",
    "submit": "已提交运营中心验收。",
    "inspect": "已记录验收结果。",
    "sign": "已签署。",
}
# What an upload form sends: the file, and the CSRF token and version as text fields.
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _departments(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict(session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(ids))).all())


def _detail(desk: Desk, session: Session, batch_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    """The batch as it now stands; after a refused step (a stale page, a wrong state, a bad file), with what went
    wrong: for a file, every row's problem (line, column, message) in place."""
    batch = service.get_batch(session, batch_id, actor=desk.actor)
    items = service.list_items(session, batch, page=dataclasses.replace(desk.page, limit=ITEMS_SHOWN))
    row_errors = list(refusal.errors) if isinstance(refusal, InvalidRows) else []
    return render(
        desk.request,
        "handover/detail.html",
        status_code=refusal.status if refusal else 200,
        batch=batch,
        department=_departments(session, {batch.department_id}).get(batch.department_id, ""),
        items=list(items),
        next_cursor=items.next_cursor,
        row_errors=row_errors,
        error_total=refusal.total if isinstance(refusal, InvalidRows) else 0,
        problem=refusal_text(refusal) if refusal is not None and not row_errors else "",
        signed={signature.party.value for signature in batch.signatures},
        notice=_DONE.get(desk.request.query_params.get("done", ""), ""),
    )


def _listing(
    desk: Desk, session: Session, status: HandoverStatus | None, refusal: DomainError | None = None
) -> Response[str]:
    """The batches; after a refused new batch, the first page with what went wrong."""
    rows = service.list_batches(session, actor=desk.actor, page=desk.page, status=[status] if status else None)
    return render(
        desk.request,
        "handover/list.html",
        status_code=refusal.status if refusal else 200,
        rows=list(rows),
        next_cursor=rows.next_cursor,
        status=status,
        statuses=list(HandoverStatus),
        departments=_departments(session, {row.department_id for row in rows}),
        problem=refusal_text(refusal) if refusal else "",
    )


def _act(desk: Desk, session: Session, batch_id: uuid.UUID, done: str, step: Callable[[], Any]) -> Response[Any]:
    return act(session, step, then=f"{PAGE}/{batch_id}", done=done, refused=partial(_detail, desk, session, batch_id))


def _decision(data: dict[str, str]) -> InspectionIn:
    """One item's decision, or ``accept_remaining``, checked as the API's ``ItemDecision`` checks it."""
    if data.get("accept_remaining") == "1":
        return InspectionIn(accept_remaining=True)
    try:
        item_id = uuid.UUID(data.get("item_id", ""))
    except ValueError:
        raise InvalidInput("item_id", "请选择要验收的资产") from None
    if data.get("result") not in (InspectionResult.ACCEPTED.value, InspectionResult.REJECTED.value):
        raise InvalidInput("result", "请选择验收合格或不合格")
    result = InspectionResult(data["result"])
    note = data.get("defect_note", "").strip()
    if result == InspectionResult.REJECTED and not note:
        raise InvalidInput("defect_note", "验收不合格时请写明问题")
    if len(note) > 2000:
        raise InvalidInput("defect_note", "至多 2000 字")
    return InspectionIn(decisions=[ItemDecision(item_id=item_id, result=result, defect_note=note)])


def _new_batch(data: dict[str, str]) -> HandoverBatchCreate:
    title = data.get("title", "").strip()
    if not title or len(title) > 200:
        raise InvalidInput("title", "请填写批次名称（至多 200 字）")
    try:
        planned = date.fromisoformat(data.get("planned_date", ""))
    except ValueError:
        raise InvalidInput("planned_date", "请填写计划移交日期（如 2027-01-15）") from None
    return HandoverBatchCreate(title=title, planned_date=planned)


class HandoverPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(self, session: DbSession, desk: AtDesk, status: FromQuery[HandoverStatus | None] = None) -> Response[str]:
        return _listing(desk, session, status)

    @post("/", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def create(self, session: DbSession, desk: AtDesk, data: Form) -> Response[Any]:
        return act(
            session,
            lambda: service.create_batch(session, _new_batch(data), actor=desk.actor),
            then=lambda batch: f"{PAGE}/{batch.id}",
            done="create",
            refused=partial(_listing, desk, session, None),
        )

    @get("/{batch_id:uuid}")
    def read(self, session: DbSession, desk: AtDesk, batch_id: FromPath[uuid.UUID], done: Done = None) -> Response[str]:
        return _detail(desk, session, batch_id)

    @post(
        "/{batch_id:uuid}/import",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        request_max_body_size=MAX_UPLOAD_BYTES,
    )
    def import_items(
        self, session: DbSession, desk: AtDesk, batch_id: FromPath[uuid.UUID], limits: UploadLimits, data: Upload
    ) -> Response[Any]:
        fields = {key: value for key, value in data.items() if isinstance(value, str)}
        return _act(desk, session, batch_id, "import", lambda: _import(
            session, batch_id, data.get("file"), desk.actor, version_of(fields), limits
        ))  # fmt: skip

    @post("/{batch_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(self, session: DbSession, desk: AtDesk, batch_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, batch_id, "submit", lambda: flows.submit(
            session, batch_id, actor=desk.actor, expected_version=version_of(data)
        ))  # fmt: skip

    @post("/{batch_id:uuid}/inspect", guards=[allow(Role.OPERATOR)], status_code=200)
    def inspect(self, session: DbSession, desk: AtDesk, batch_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, batch_id, "inspect", lambda: flows.inspect(
            session, batch_id, _decision(data), actor=desk.actor, expected_version=version_of(data)
        ))  # fmt: skip

    @post("/{batch_id:uuid}/sign", guards=[allow(Role.DEPARTMENT, Role.OPERATOR, Role.BUREAU)], status_code=200)
    def sign(self, session: DbSession, desk: AtDesk, batch_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        comment = data.get("comment", "").strip()[:500]
        return _act(desk, session, batch_id, "sign", lambda: flows.sign(
            session, batch_id, actor=desk.actor, expected_version=version_of(data), comment=comment
        ))  # fmt: skip


def _import(
    session: Session, batch_id: uuid.UUID, upload: Any, actor: Actor, version: int, limits: Limits
) -> HandoverBatch:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file", "请选择要上传的 CSV 或 XLSX 文件")
    content = upload.file.read()
    return service.import_items(session, batch_id, content, actor=actor, expected_version=version, limits=limits)
