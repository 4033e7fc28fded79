import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody
from sqlmodel import Session

from opscenter.idempotency.web import OptionalIdempotencyKey, idempotent_post
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, get, post, respond
from opscenter.workflow import ApproveBody, RejectBody, approval_note
from sla.maintenance import flows, service
from sla.maintenance.models import (
    MaintenanceStatus,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    MaintenanceWindowPublic,
)

Answer = Response[MaintenanceWindowPublic]


def _answer(session: Session, window: MaintenanceWindow, actor: Actor, *, created: bool = False) -> Answer:
    [public] = service.to_public(session, [window], actor=actor)
    return respond(public, created=f"/api/v1/maintenance-windows/{window.id}" if created else None)


class MaintenanceWindowController(Controller):
    path = "/api/v1/maintenance-windows"
    tags = ["sla"]
    guards = [allow(*BUSINESS_ROLES)]

    @idempotent_post(
        "/",
        key_required=False,
        guards=[allow(Role.OPERATOR)],
        description="Proposed by the operations center before the window starts; the bureau decides. Once "
        "approved, the window is cut out of its instances' measured days exactly, to the sample. With an "
        "`Idempotency-Key`, a retry returns the first answer and proposes nothing more.",
    )
    def propose(
        self,
        session: DbSession,
        actor: CurrentActor,
        data: JSONBody[MaintenanceWindowCreate],
        idempotency_key: OptionalIdempotencyKey,
    ) -> Answer:
        return _answer(session, service.propose(session, data, actor=actor), actor, created=True)

    @get("/", description="A department reads the windows that touch one of its instances.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: AnyOf[MaintenanceStatus] = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[MaintenanceWindowPublic]:
        rows = service.list_windows(
            session, actor=actor, page=page, status=status, service_instance_id=service_instance_id
        )
        return rows.page_of(service.to_public(session, rows.rows, actor=actor))

    @get("/{window_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, window_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(session, service.get_window(session, window_id, actor=actor), actor)

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
        expected_version: ExpectedVersion,
        data: JSONBody[ApproveBody | None] = None,
    ) -> Answer:
        note = approval_note(data)
        window = flows.approve(session, window_id, actor=actor, expected_version=expected_version, note=note)
        return _answer(session, window, actor)

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
        data: JSONBody[RejectBody],
        expected_version: ExpectedVersion,
    ) -> Answer:
        window = flows.reject(session, window_id, actor=actor, expected_version=expected_version, reason=data.reason)
        return _answer(session, window, actor)

    @post(
        "/{window_id:uuid}/withdraw",
        guards=[allow(Role.OPERATOR)],
        status_code=200,
        description="The operator takes back a proposal not yet decided. Needs If-Match.",
    )
    def withdraw(
        self, session: DbSession, actor: CurrentActor, window_id: FromPath[uuid.UUID], expected_version: ExpectedVersion
    ) -> Answer:
        window = flows.withdraw(session, window_id, actor=actor, expected_version=expected_version)
        return _answer(session, window, actor)
