import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from opscenter.audit import checkpoints, exports, service
from opscenter.audit.models import AuditCheckpointPublic, AuditEventPublic
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.web import DbSession, Exporting, Paging, get

HASH_RECIPE = """\
**The hash recipe.** Each sealed event carries `seq` (from 1, no gaps), `prev_hash` (the previous event's `hash`;
64 zeros before event 1), `hash` and `recipe`. `hash` is the SHA-256, in lowercase hex, of the UTF-8 bytes of one
JSON object: keys sorted, no whitespace (`separators=(",", ":")`), non-ASCII written as itself (not `\\u`
escapes). Recipe 2 (an event that names a client address or a credential: a request's) has the keys `action`,
`actor_name`, `actor_organization_id`, `actor_role`, `actor_user_id`, `changes`, `client_address`,
`credential_id`, `credential_kind`, `id`, `object_id`, `object_type`, `occurred_at`, `prev_hash`, `recipe` (the
number 2), `request_id` and `seq` (a number), each valued as this API serves it, except `occurred_at`: the instant
in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fractional digits. Recipe 1 (seals before migration 0020, and
the system's events since: jobs and commands, whose `client_address`, `credential_kind` and `credential_id` must
be null) leaves out `client_address`, `credential_id`, `credential_kind` and `recipe`, and writes `occurred_at` as
`YYYY-MM-DDTHH:MM:SS+00:00`, with `.ffffff` before the offset unless the microseconds are 0. An export
(`opscenter audit export FILE`) is these events as JSON lines in `seq` order;
`opscenter audit verify --export FILE --checkpoint FILE --public-key FILE` checks one offline."""

CHECKPOINT_RECIPE = """\
The chain's head signed with the operator's Ed25519 key, which the database never holds (at least hourly).
`signature` is base64 of the Ed25519 signature over the UTF-8 text
`opscenter-audit-checkpoint/1\\nseq=<seq>\\nhash=<hash>\\nsigned_at=<YYYY-MM-DDTHH:MM:SS.ffffffZ>\\n`;
`key_id` is the SHA-256 (hex) of the raw 32-byte public key. Keep copies: a chain rewritten by whoever can
write the database no longer ends, at a checkpoint's `seq`, in the hash it signed. Newest first."""


class AuditCheckpointController(Controller):
    path = "/api/v1/audit-checkpoints"
    tags = ["audit"]
    guards = [allow(Role.ADMIN, Role.AUDITOR, Role.BUREAU)]

    @get("/", description=CHECKPOINT_RECIPE)
    def index(self, session: DbSession, actor: CurrentActor, page: Paging) -> CursorPage[AuditCheckpointPublic]:
        rows = checkpoints.list_checkpoints(session, page=page)
        return rows.page_of([AuditCheckpointPublic.model_validate(row) for row in rows])

    @get("/{checkpoint_id:uuid}")
    def read(
        self, session: DbSession, actor: CurrentActor, checkpoint_id: FromPath[uuid.UUID]
    ) -> AuditCheckpointPublic:
        return AuditCheckpointPublic.model_validate(checkpoints.get_checkpoint(session, checkpoint_id))


class AuditEventController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @get(
        "/",
        description="Newest first. `q`: a part of the actor's name, the action, the object's type or id."
        f"\n\n{HASH_RECIPE}",
    )
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
        q: SearchQuery = None,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        filters = service.EventFilter(
            object_type=object_type,
            object_id=object_id,
            action=action,
            actor_user_id=actor_user_id,
            since=service.aware("since", since),
            until=service.aware("until", until),
            q=q,
        )
        return exports.events_file(exporting, filters=filters, file_format=file_format)

    @get("/{event_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, event_id: FromPath[uuid.UUID]) -> AuditEventPublic:
        return AuditEventPublic.model_validate(service.get_event(session, event_id))
