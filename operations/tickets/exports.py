"""Tickets for people with Excel: the list's filters and order, with each ticket's SLA clock (due times, when it
was answered and resolved, breaches), departments, instances and people by name. Streamed a page at a time, so a
100,000-ticket export costs the memory of one page."""

from typing import Any

from litestar.response import Stream
from sqlmodel import Session

from contracts.instances.models import ServiceInstance
from operations.tickets import service
from operations.tickets.models import Ticket
from operations.tickets.service import TicketFilter, TicketSort
from opscenter.exports import Column, ExportFormat, Kind, Sheet, export, names, paged
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, User
from opscenter.timekeeping import today
from opscenter.web import ExportSource

TEXT, INTEGER, INSTANT = Kind.TEXT, Kind.INTEGER, Kind.INSTANT
COLUMNS = (
    Column("工单号"), Column("标题"), Column("类型"), Column("优先级"), Column("状态"), Column("受益部门"),
    Column("服务实例"), Column("处理人"), Column("计时方式"), Column("创建时间", INSTANT),
    Column("响应时限", INSTANT), Column("响应时间", INSTANT), Column("响应超时"), Column("解决时限", INSTANT),
    Column("解决时间", INSTANT), Column("解决超时"), Column("超时时间", INSTANT), Column("升级时间", INSTANT),
    Column("关闭时间", INSTANT), Column("重开次数", INTEGER), Column("满意度", INTEGER),
)  # fmt: skip
YES = "是"


def tickets_file(
    source: ExportSource, *, actor: Actor, filters: TicketFilter, sort: TicketSort, file_format: ExportFormat
) -> Stream:
    """The tickets the list would show ``actor`` with ``filters`` in ``sort`` order, every page of them."""

    def read(session: Session, after: str | None) -> tuple[list[list[Any]], str | None]:
        rows = service.list_tickets(session, actor=actor, page=source.page(after), filters=filters, sort=sort)
        return ticket_rows(session, rows.rows), rows.next_cursor

    sheet = Sheet(f"tickets-{today().isoformat()}", "工单", COLUMNS)
    return export(sheet, paged(source.transactions, read), file_format)


def ticket_rows(session: Session, tickets: list[Ticket]) -> list[list[Any]]:
    departments = names(session, Organization, (ticket.department_id for ticket in tickets))
    instances = names(session, ServiceInstance, (ticket.service_instance_id for ticket in tickets))
    people = names(session, User, (ticket.assignee_id for ticket in tickets), attribute="display_name", fallback="name")
    return [
        [
            ticket.number, ticket.title, ticket.kind.label, ticket.priority.value, ticket.status.label,
            departments.get(ticket.department_id, ""), instances.get(ticket.service_instance_id, ""),
            people.get(ticket.assignee_id, "") if ticket.assignee_id else "", ticket.clock.label,
            ticket.created_at, ticket.response_due_at, ticket.responded_at,
            YES if ticket.response_breached_at else "", ticket.resolution_due_at, ticket.resolved_at,
            YES if ticket.resolution_breached_at else "", ticket.resolution_breached_at or ticket.response_breached_at,
            ticket.escalated_at, ticket.closed_at, ticket.reopen_count, ticket.satisfaction_score,
        ]
        for ticket in tickets
    ]  # fmt: skip
