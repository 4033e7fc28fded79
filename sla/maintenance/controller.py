import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, ExpectedVersion, Paging, get, post, respond
from sla.maintenance import flows, service
from sla.maintenance.models import (
    DecisionNote,
    MaintenanceStatus,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    MaintenanceWindowPublic,
    RejectionReason,
)

Answer = Response[MaintenanceWindowPublic]


def _public(window: MaintenanceWindow) -> MaintenanceWindowPublic:
    return MaintenanceWindowPublic.model_validate(window, update={"service_instance_ids": window.service_instance_ids})


def _answer(window: MaintenanceWindow, *, created: bool = False) -> Answer:
    return respond(_public(window), created=f"/api/v1/maintenance-windows/{window.id}" if created else None)


class MaintenanceWindowController(Controller):
    path = "/api/v1/maintenance-windows"
    tags = ["sla"]
    guards = [allow(*BUSINESS_ROLES)]

    @post(
        "/",
        guards=[allow(Role.OPERATOR)],
        description="Proposed by the operations center before the window starts; the bureau decides. Once "
        "approved, the window is cut out of its instances' measured days exactly, to the sample.",
    )
    def propose(self, session: DbSession, actor: CurrentActor, data: JSONBody[MaintenanceWindowCreate]) -> Answer:
        return _answer(service.propose(session, data, actor=actor), created=True)

    @get("/", description="A department reads the windows that touch one of its instances.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: FromQuery[MaintenanceStatus | None] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[MaintenanceWindowPublic]:
        rows = service.list_windows(
            session, actor=actor, page=page, status=status, service_instance_id=service_instance_id
        )
        return rows.page_of([_public(row) for row in rows])

    @get("/{window_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, window_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(service.get_window(session, window_id, actor=actor))

    @post(
        "/{window_id:uuid}/approve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="Only a proposed window, before it starts. Needs If-Match.",
    )
    def approve(
        self,
        session: DbSession,
        actor: CurrentActor,
        window_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionNote],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(
            flows.approve(session, window_id, actor=actor, expected_version=expected_version, note=data.note)
        )

    @post(
        "/{window_id:uuid}/reject",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="Only a proposed window, before it starts, with the reason. Needs If-Match.",
    )
    def reject(
        self,
        session: DbSession,
        actor: CurrentActor,
        window_id: FromPath[uuid.UUID],
        data: JSONBody[RejectionReason],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(
            flows.reject(session, window_id, actor=actor, expected_version=expected_version, reason=data.reason)
        )

    @post(
        "/{window_id:uuid}/withdraw",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="The operator takes back a proposal not yet decided. Needs If-Match.",
    )
    def withdraw(
        self, session: DbSession, actor: CurrentActor, window_id: FromPath[uuid.UUID], expected_version: ExpectedVersion
    ) -> Answer:
        return _answer(flows.withdraw(session, window_id, actor=actor, expected_version=expected_version))
