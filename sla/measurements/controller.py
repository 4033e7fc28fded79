import uuid
from datetime import date
from typing import Annotated

from litestar import Controller
from litestar.params import FromQuery, QueryParameter

from contracts.instances import service as instances
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.openapi import ALSO_ANSWERS
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, Paging, get
from sla.measurements import service
from sla.measurements.models import MeasurementPublic


class MeasurementController(Controller):
    path = "/api/v1/sla/measurements"
    tags = ["sla"]
    guards = [allow(*BUSINESS_ROLES)]

    @get(
        "/",
        opt={ALSO_ANSWERS: (404,)},
        description="Each instance's measured days, oldest first, with the PromQL that reproduces them. "
        "A department reads its own instances' (another's instance: 404, as if absent).",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
        first_day: Annotated[
            date | None, QueryParameter(name="from", description="First day, inclusive (YYYY-MM-DD)")
        ] = None,
        last_day: Annotated[date | None, QueryParameter(name="to", description="Last day, inclusive")] = None,
    ) -> CursorPage[MeasurementPublic]:
        if service_instance_id is not None:
            instances.get_instance(session, service_instance_id, actor=actor)  # 404 for another's
        rows = service.list_measurements(
            session,
            actor=actor,
            page=page,
            service_instance_id=service_instance_id,
            first_day=first_day,
            last_day=last_day,
        )
        return rows.page_of([MeasurementPublic.model_validate(row) for row in rows])
