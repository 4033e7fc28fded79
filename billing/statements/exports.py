"""A statement as a spreadsheet (CSV, UTF-8 with BOM, or XLSX) with Chinese headers: one row per line the reader
may see, then a total row. Every figure is the API's, to the fen, and adds up as the API's does: each line's
amount less the credit notes posted against it is what is payable for it, and the total row's base, deductions,
amount, credited and payable are the statement's (``StatementDetail``).

Departments, services and instances are named, not numbered; an availability or a score set by hand when a
dispute was resolved is marked as such beside the figure (``可用率来源``, ``评分来源``)."""

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from litestar.response import Stream
from sqlmodel import Session, col, select

from billing.statements.models import StatementDetail, StatementLinePublic
from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from opscenter.exports import Column, ExportFormat, Kind, Mark, Sheet, export
from opscenter.identity.models import Organization

TEXT, MONEY, PERCENT, DECIMAL, INTEGER, DATE, SOURCE = (
    Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.DECIMAL, Kind.INTEGER, Kind.DATE, Kind.SOURCE,
)  # fmt: skip
COLUMNS = (
    Column("行号", INTEGER), Column("受益部门"), Column("服务"), Column("服务实例"), Column("数量", INTEGER),
    Column("单价", MONEY), Column("计费起", DATE), Column("计费止", DATE), Column("计费天数", INTEGER),
    Column("当月天数", INTEGER), Column("基数", MONEY), Column("SLA状态"), Column("可用率", PERCENT),
    Column("可用率来源", SOURCE), Column("实测可用率", PERCENT), Column("覆盖率", PERCENT),
    Column("扣减比例", PERCENT), Column("SLA扣减", MONEY), Column("超时工单"), Column("工单罚金", MONEY),
    Column("评分", DECIMAL), Column("评分来源", SOURCE), Column("评价数", INTEGER), Column("系数", DECIMAL),
    Column("评价扣减", MONEY), Column("扣减上限", MONEY), Column("扣减合计", MONEY), Column("结算金额", MONEY),
    Column("贷项冲减", MONEY), Column("应付金额", MONEY), Column("标记"), Column("申诉中"), Column("说明"),
)  # fmt: skip
TOTAL = "合计"
MEASURED = Mark("实测")
NOT_MEASURED = Mark("无数据")
RATED = Mark("评价均分")
UNRATED = Mark("未评价")
BY_HAND = Mark("人工核定（申诉处理）", manual=True)
_POSITION = {column.header: position for position, column in enumerate(COLUMNS)}


def statement_file(session: Session, detail: StatementDetail, *, file_format: ExportFormat) -> Stream:
    """The statement as the reader sees it (a department: its own lines). Small (a contract's lines), so its rows
    are read in the request's transaction."""
    names = _names(session, detail.lines)
    credited: dict[int, Decimal] = defaultdict(Decimal)
    reasons: dict[int, list[str]] = defaultdict(list)
    for note in detail.credit_notes:
        credited[note.line_no] += note.amount
        reasons[note.line_no].append(f"贷项 {note.amount:f}：{note.reason}")
    rows: list[list[Any]] = [
        _line_row(line, names, credited[line.line_no], reasons[line.line_no]) for line in detail.lines
    ]
    total: list[Any] = [None] * len(COLUMNS)
    for header, value in (
        ("行号", TOTAL), ("基数", detail.base), ("扣减合计", detail.deduction), ("结算金额", detail.amount),
        ("贷项冲减", detail.credited), ("应付金额", detail.payable),
        ("SLA扣减", sum((line.sla_credit for line in detail.lines), Decimal(0))),
        ("工单罚金", sum((line.penalties for line in detail.lines), Decimal(0))),
        ("评价扣减", sum((line.rating_ded for line in detail.lines), Decimal(0))),
    ):  # fmt: skip
        total[_POSITION[header]] = value
    rows.append(total)
    sheet = Sheet(f"statement-{detail.contract_number}-{detail.period}", f"结算单 {detail.period}", COLUMNS)
    return export(sheet, rows, file_format)


def _line_row(
    line: StatementLinePublic, names: dict[uuid.UUID, str], credited: Decimal, reasons: list[str]
) -> list[Any]:
    measured = MEASURED if line.availability is not None else NOT_MEASURED
    availability_source = BY_HAND if line.manual_availability is not None else measured
    rated = RATED if line.score is not None else UNRATED
    score_source = BY_HAND if line.manual_score is not None else rated
    notes = [line.manual_note] if line.manual_note else []
    return [
        line.line_no, names.get(line.department_id, str(line.department_id)), names.get(line.service_id, ""),
        names.get(line.service_instance_id, "") if line.service_instance_id else "", line.quantity, line.unit_price,
        line.first_day, line.last_day, line.active_days, line.days_in_month, line.base, line.sla_status.label,
        line.availability, availability_source, line.measured_availability, line.coverage, line.credit_pct,
        line.sla_credit, ";".join(ticket.number for ticket in line.tickets), line.penalties, line.score,
        score_source, line.ratings, line.coefficient, line.rating_ded, line.cap, line.deduction, line.amount,
        credited, line.amount - credited, ";".join(flag.label for flag in line.flags), "是" if line.disputed else "",
        "；".join(notes + reasons),
    ]  # fmt: skip


def _names(session: Session, lines: list[StatementLinePublic]) -> dict[uuid.UUID, str]:
    """The names of the lines' departments, services and instances: three queries whatever the number of lines."""
    departments = {line.department_id for line in lines}
    services = {line.service_id for line in lines}
    instances = {line.service_instance_id for line in lines if line.service_instance_id is not None}
    names: dict[uuid.UUID, str] = {}
    for model, ids in ((Organization, departments), (CatalogService, services), (ServiceInstance, instances)):
        if ids:
            query = select(model.id, model.name).where(col(model.id).in_(list(ids)))
            names.update(dict(session.exec(query).all()))
    return names
