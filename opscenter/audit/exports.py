"""The audit trail for people with Excel: the list's filters, newest first, each event with its place in the sealed
chain and its hash, times in Asia/Shanghai, organizations by name."""

import json
from typing import Any

from litestar.response import Stream
from sqlmodel import Session

from opscenter.audit import service
from opscenter.audit.models import AuditEvent
from opscenter.exports import Column, ExportFormat, Kind, Sheet, export, names, paged
from opscenter.identity.models import Organization
from opscenter.timekeeping import today
from opscenter.web import ExportSource

COLUMNS = (
    Column("链序号", Kind.INTEGER), Column("时间", Kind.INSTANT), Column("操作人"), Column("操作人单位"),
    Column("角色"), Column("动作"), Column("对象类型"), Column("对象ID"), Column("变更"), Column("请求ID"),
    Column("事件ID"), Column("哈希"),
)  # fmt: skip


def events_file(source: ExportSource, *, filters: service.EventFilter, file_format: ExportFormat) -> Stream:
    """Every event the list would show with ``filters``, newest first, every page of them."""

    def read(session: Session, after: str | None) -> tuple[list[list[Any]], str | None]:
        page = service.list_events(session, page=source.page(after), filters=filters)
        return _rows(session, page.rows), page.next_cursor

    sheet = Sheet(f"audit-events-{today().isoformat()}", "审计日志", COLUMNS)
    return export(sheet, paged(source.transactions, read), file_format)


def _rows(session: Session, events: list[AuditEvent]) -> list[list[Any]]:
    organizations = names(session, Organization, (event.actor_organization_id for event in events))
    return [
        [
            event.seq, event.occurred_at, event.actor_name,
            organizations.get(event.actor_organization_id, "") if event.actor_organization_id else "",
            event.actor_role, event.action, event.object_type, event.object_id,
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "", event.request_id,
            str(event.id), event.hash or "",
        ]
        for event in events
    ]  # fmt: skip
