"""Purchase requests for people with Excel: one row per requested item (the request's title, department, state and
decision beside it), with the list's filters, search and order (newest request first unless asked). Money as money,
so the estimates can be summed."""

import uuid
from collections.abc import Collection
from typing import Any

from litestar.response import Stream
from sqlmodel import Session

from contracts.catalog.models import CatalogService
from contracts.purchasing import service
from contracts.purchasing.models import PurchaseRequest, PurchaseStatus
from contracts.purchasing.service import RequestSort
from opscenter.exports import Column, ExportFormat, Kind, Sheet, export, names, paged
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, User
from opscenter.timekeeping import today
from opscenter.web import ExportSource

COLUMNS = (
    Column("申请标题"), Column("申请部门"), Column("状态"), Column("提交时间", Kind.INSTANT),
    Column("审批时间", Kind.INSTANT), Column("审批人"), Column("审批意见"), Column("序号", Kind.INTEGER),
    Column("服务"), Column("数量", Kind.INTEGER), Column("单价", Kind.MONEY), Column("开始日期", Kind.DATE),
    Column("结束日期", Kind.DATE), Column("预估金额", Kind.MONEY), Column("申请理由"), Column("申请ID"),
)  # fmt: skip


def requests_file(
    source: ExportSource,
    *,
    actor: Actor,
    status: Collection[PurchaseStatus] | None,
    department_id: uuid.UUID | None,
    q: str | None,
    sort: RequestSort,
    file_format: ExportFormat,
) -> Stream:
    """The requests the list would show ``actor`` (its filters, ``q`` and ``sort``), every page of them, an item per
    row."""

    def read(session: Session, after: str | None) -> tuple[list[list[Any]], str | None]:
        page = service.list_requests(
            session, actor=actor, page=source.page(after), status=status, department_id=department_id, q=q, sort=sort
        )
        return _rows(session, page.rows), page.next_cursor

    sheet = Sheet(f"purchase-requests-{today().isoformat()}", "采购申请", COLUMNS)
    return export(sheet, paged(source.transactions, read), file_format)


def _rows(session: Session, requests: list[PurchaseRequest]) -> list[list[Any]]:
    departments = names(session, Organization, (request.department_id for request in requests))
    people = names(
        session, User, (request.decided_by_id for request in requests), attribute="display_name", fallback="name"
    )
    services = names(session, CatalogService, (item.service_id for request in requests for item in request.items))
    return [
        [
            request.title, departments.get(request.department_id, ""), request.status.label, request.submitted_at,
            request.decided_at, people.get(request.decided_by_id, "") if request.decided_by_id else "",
            request.decision_note, item.position + 1, services.get(item.service_id, ""), item.quantity,
            item.unit_price_fen, item.start_date, item.end_date, item.estimated_amount_fen, item.justification,
            str(request.id),
        ]
        for request in requests
        for item in request.items
    ]  # fmt: skip
