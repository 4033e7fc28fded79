import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from opscenter.audit import exports, service
from opscenter.audit.models import AuditEventPublic
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, Exporting, Paging, get


class AuditEventController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @get("/", description="Newest first.")
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
            ),
        )
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])

    @get(
        "/export",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The events the list would show, with its filters, newest first, as CSV (UTF-8 with BOM) or "
        "XLSX: Chinese headers, times in Asia/Shanghai, each event's place in the sealed chain and its hash.",
    )
    def export(
        self,
        actor: CurrentActor,
        exporting: Exporting,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        actor_user_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        filters = service.EventFilter(
            object_type=object_type,
            object_id=object_id,
            action=action,
            actor_user_id=actor_user_id,
            since=service.aware("since", since),
            until=service.aware("until", until),
        )
        return exports.events_file(exporting, filters=filters, file_format=file_format)

    @get("/{event_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, event_id: FromPath[uuid.UUID]) -> AuditEventPublic:
        return AuditEventPublic.model_validate(service.get_event(session, event_id))
