import uuid
from typing import Annotated

from litestar import Controller
from litestar.params import FromQuery, QueryParameter

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.openapi import ALSO_ANSWERS
from opscenter.pagination import CursorPage
from opscenter.timekeeping import PERIOD_PATTERN, Period
from opscenter.web import DbSession, Paging, get
from sla.reports import service
from sla.reports.models import LineReport


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
        period: Annotated[
            str, QueryParameter(pattern=PERIOD_PATTERN, description="The month, YYYY-MM (Asia/Shanghai)")
        ],
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
