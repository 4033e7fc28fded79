import uuid
from typing import Annotated

from litestar import Controller
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.openapi import ALSO_ANSWERS, FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.timekeeping import PERIOD_PATTERN, Period
from opscenter.web import DbSession, Exporting, Paging, get
from sla.reports import exports, service
from sla.reports.models import LineReport

MonthQuery = Annotated[str, QueryParameter(pattern=PERIOD_PATTERN, description="The month, YYYY-MM (Asia/Shanghai)")]


class SlaReportController(Controller):
    path = "/api/v1/sla/reports"
    tags = ["sla"]
    guards = [allow(*BUSINESS_ROLES)]

    @get(
        "/",
        opt={ALSO_ANSWERS: (404,)},
        description="The month's report of each service instance's contract line, in instance order: availability, "
        "coverage, status, the credit tier and the evidence (counts, maintenance minutes, days missing, PromQL). "
        "Computed when asked, so `pending` turns final as the month ends and its days are measured. "
        "A department reads its own (another's instance or contract: 404, as if absent).",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        period: MonthQuery,
        contract_id: FromQuery[uuid.UUID | None] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[LineReport]:
        return service.list_reports(
            session,
            actor=actor,
            page=page,
            period=Period.parse(period),
            contract_id=contract_id,
            service_instance_id=service_instance_id,
        )

    @get(
        "/export",
        opt={ALSO_ANSWERS: (404,), FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The reports the list would show, with its filters and order, as CSV (UTF-8 with BOM) or XLSX: "
        "Chinese headers, percentages as percentages, contracts, instances and departments by number or name. "
        "A department exports its own (another's instance or contract: 404, as if absent).",
    )
    def export(
        self,
        session: DbSession,
        actor: CurrentActor,
        exporting: Exporting,
        period: MonthQuery,
        contract_id: FromQuery[uuid.UUID | None] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        service.check_filters(session, actor=actor, contract_id=contract_id, service_instance_id=service_instance_id)
        return exports.reports_file(
            exporting,
            actor=actor,
            period=Period.parse(period),
            contract_id=contract_id,
            service_instance_id=service_instance_id,
            file_format=file_format,
        )
