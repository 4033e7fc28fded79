"""The console's handover pages: a department's batches (open one, upload its inventory as CSV or XLSX through the
same import as ``POST /handovers/{id}/items/import``, every row error shown in place, submit), the operations
center's inspection item by item, and each party's signature. The same services, flows, guards and scoping as the
API's controller; the version the page showed in every form."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response
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
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role
from opscenter.pages import Done, Form, attempt, refusal_text, render, see_other, version_of
from opscenter.sheets import Limits
from opscenter.web import DbSession, Paging, UploadLimits, get, post

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


def _detail(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    page: Any,
    *,
    status: int = 200,
    refusal: DomainError | None = None,
) -> Response[str]:
    batch = service.get_batch(session, batch_id, actor=actor)
    items = service.list_items(session, batch, page=dataclasses.replace(page, limit=ITEMS_SHOWN))
    row_errors = list(refusal.errors) if isinstance(refusal, InvalidRows) else []
    return render(
        request,
        "handover/detail.html",
        status_code=status,
        batch=batch,
        department=_departments(session, {batch.department_id}).get(batch.department_id, ""),
        items=list(items),
        next_cursor=items.next_cursor,
        row_errors=row_errors,
        error_total=refusal.total if isinstance(refusal, InvalidRows) else 0,
        problem=refusal_text(refusal) if refusal is not None and not row_errors else "",
        signed={signature.party.value for signature in batch.signatures},
        notice=_DONE.get(request.query_params.get("done", ""), ""),
    )


def _act(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    page: Any,
    action: str,
    step: Callable[[], HandoverBatch],
) -> Response[Any]:
    """Do ``step``; a refusal (a stale page, a wrong state, a bad file) shows the batch as it now stands, with what
    went wrong: for a file, every row's problem (line, column, message) in place."""
    outcome = attempt(session, step)
    if isinstance(outcome, DomainError):
        return _detail(request, session, actor, batch_id, page, status=outcome.status, refusal=outcome)
    return see_other(f"{PAGE}/{batch_id}", done=action)


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
    def index(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: FromQuery[HandoverStatus | None] = None,
    ) -> Response[str]:
        rows = service.list_batches(session, actor=actor, page=page, status=[status] if status else None)
        return render(
            request,
            "handover/list.html",
            rows=list(rows),
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(HandoverStatus),
            departments=_departments(session, {row.department_id for row in rows}),
            problem="",
        )

    @post("/", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def create(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, page: Paging, data: Form
    ) -> Response[Any]:
        outcome = attempt(session, lambda: service.create_batch(session, _new_batch(data), actor=actor))
        if isinstance(outcome, DomainError):
            rows = service.list_batches(session, actor=actor, page=page)
            return render(
                request,
                "handover/list.html",
                status_code=outcome.status,
                rows=list(rows),
                next_cursor=rows.next_cursor,
                status=None,
                statuses=list(HandoverStatus),
                departments=_departments(session, {row.department_id for row in rows}),
                problem=refusal_text(outcome),
            )
        return see_other(f"{PAGE}/{outcome.id}", done="create")

    @get("/{batch_id:uuid}")
    def read(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        batch_id: FromPath[uuid.UUID],
        done: Done = None,
    ) -> Response[str]:
        return _detail(request, session, actor, batch_id, page)

    @post(
        "/{batch_id:uuid}/import",
        guards=[allow(Role.DEPARTMENT)],
        status_code=200,
        request_max_body_size=MAX_UPLOAD_BYTES,
    )
    def import_items(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        batch_id: FromPath[uuid.UUID],
        limits: UploadLimits,
        data: Upload,
    ) -> Response[Any]:
        fields = {key: value for key, value in data.items() if isinstance(value, str)}
        return _act(
            request, session, actor, batch_id, page, "import",
            lambda: _import(session, batch_id, data.get("file"), actor, version_of(fields), limits),
        )  # fmt: skip

    @post("/{batch_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        batch_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, batch_id, page, "submit",
            lambda: flows.submit(session, batch_id, actor=actor, expected_version=version_of(data)),
        )  # fmt: skip

    @post("/{batch_id:uuid}/inspect", guards=[allow(Role.OPERATOR)], status_code=200)
    def inspect(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        batch_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, batch_id, page, "inspect",
            lambda: flows.inspect(session, batch_id, _decision(data), actor=actor, expected_version=version_of(data)),
        )  # fmt: skip

    @post("/{batch_id:uuid}/sign", guards=[allow(Role.DEPARTMENT, Role.OPERATOR, Role.BUREAU)], status_code=200)
    def sign(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        batch_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        comment = data.get("comment", "").strip()[:500]
        return _act(
            request, session, actor, batch_id, page, "sign",
            lambda: flows.sign(session, batch_id, actor=actor, expected_version=version_of(data), comment=comment),
        )  # fmt: skip


def _import(
    session: Session, batch_id: uuid.UUID, upload: Any, actor: Actor, version: int, limits: Limits
) -> HandoverBatch:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file", "请选择要上传的 CSV 或 XLSX 文件")
    content = upload.file.read()
    return service.import_items(session, batch_id, content, actor=actor, expected_version=version, limits=limits)
