"""Monthly SLA reports for people with Excel: one row per contract line, with the list's filters and order,
percentages as percentages, contracts, instances and departments by name or number. Every figure here is measured
(a figure set by hand in a dispute lives on the statement, whose export marks it)."""

import uuid
from typing import Any

from litestar.response import Stream
from sqlmodel import Session

from contracts.agreements.models import Contract
from contracts.instances.models import ServiceInstance
from opscenter.exports import Column, ExportFormat, Kind, Mark, Sheet, export, names, paged
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization
from opscenter.timekeeping import Period
from opscenter.web import ExportSource
from sla.reports import service
from sla.reports.models import LineReport

PERCENT, INTEGER, DATE = Kind.PERCENT, Kind.INTEGER, Kind.DATE
COLUMNS = (
    Column("月份"), Column("合同编号"), Column("行号", INTEGER), Column("服务实例"), Column("受益部门"),
    Column("计费起", DATE), Column("计费止", DATE), Column("天数", INTEGER), Column("状态"),
    Column("可用率", PERCENT), Column("可用率来源", Kind.SOURCE), Column("覆盖率", PERCENT),
    Column("目标可用率", PERCENT), Column("最低覆盖率", PERCENT), Column("扣减比例", PERCENT),
    Column("正常样本", INTEGER), Column("样本数", INTEGER), Column("应有样本", INTEGER),
    Column("维护分钟", INTEGER), Column("缺测天数", INTEGER),
)  # fmt: skip
MEASURED = Mark("实测")
NOTHING_MEASURED = Mark("无数据")


def reports_file(
    source: ExportSource,
    *,
    actor: Actor,
    period: Period,
    contract_id: uuid.UUID | None,
    service_instance_id: uuid.UUID | None,
    file_format: ExportFormat,
) -> Stream:
    """The reports the list would show ``actor`` for ``period``, every page of them. Callers check the filters
    first (``service.check_filters``), so that a contract or instance the actor may not see is a 404, not a file."""

    def read(session: Session, after: str | None) -> tuple[list[list[Any]], str | None]:
        page = service.list_reports(
            session,
            actor=actor,
            page=source.page(after),
            period=period,
            contract_id=contract_id,
            service_instance_id=service_instance_id,
        )
        return _rows(session, page.items), page.next_cursor

    sheet = Sheet(f"sla-reports-{period}", f"SLA月报 {period}", COLUMNS)
    return export(sheet, paged(source.transactions, read), file_format)


def _rows(session: Session, reports: list[LineReport]) -> list[list[Any]]:
    contracts = names(session, Contract, (report.contract_id for report in reports), attribute="number")
    instances = names(session, ServiceInstance, (report.service_instance_id for report in reports))
    departments = names(session, Organization, (report.department_id for report in reports))
    return [
        [
            report.period, contracts.get(report.contract_id, ""), report.line_no,
            instances.get(report.service_instance_id, "") if report.service_instance_id else "",
            departments.get(report.department_id, ""), report.first_day, report.last_day, report.active_days,
            report.status.label, report.availability,
            MEASURED if report.availability is not None else NOTHING_MEASURED, report.coverage,
            report.availability_target, report.min_coverage, report.credit_pct, report.up_samples, report.samples,
            report.expected_samples, report.maintenance_minutes, report.days_missing,
        ]
        for report in reports
    ]  # fmt: skip
