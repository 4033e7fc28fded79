import uuid
from datetime import datetime

from litestar import Controller
from litestar.params import FromPath, FromQuery

from opscenter.audit import service
from opscenter.audit.models import AuditEventPublic
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.web import DbSession, Paging, get


class AuditEventController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @get("/", description="Newest first. `q`: a part of the actor's name, the action, the object's type or id.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        actor_user_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        q: SearchQuery = None,
    ) -> CursorPage[AuditEventPublic]:
        rows = service.list_events(
            session,
            page=page,
            filters=service.EventFilter(
                object_type=object_type,
                object_id=object_id,
                action=action,
                actor_user_id=actor_user_id,
                since=since,
                until=until,
                q=q,
            ),
        )
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])

    @get("/{event_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, event_id: FromPath[uuid.UUID]) -> AuditEventPublic:
        return AuditEventPublic.model_validate(service.get_event(session, event_id))
