import uuid
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel

from opscenter.auth import service
from opscenter.auth.cache import Credential
from opscenter.auth.models import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from opscenter.errors import NotFound
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.identity.models import OrganizationPublic, Role, UserPublic
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, ExpectedVersion, Paging, get, post, respond


class ApiKeyController(Controller):
    path = "/api/v1/api-keys"
    tags = ["api-keys"]
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @post(
        "/",
        guards=[allow(Role.ADMIN)],
        description="The answer carries the whole key in `key`; it is never shown again.",
    )
    def create(self, session: DbSession, actor: CurrentActor, data: JSONBody[ApiKeyCreate]) -> Response[ApiKeyCreated]:
        api_key, plaintext = service.create_api_key(session, data, actor=actor)
        created = ApiKeyCreated(**ApiKeyPublic.model_validate(api_key).model_dump(), key=plaintext)
        return respond(created, created=f"/api/v1/api-keys/{created.id}")

    @get("/")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        user_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[ApiKeyPublic]:
        rows = service.list_api_keys(session, actor=actor, page=page, user_id=user_id)
        return rows.page_of([ApiKeyPublic.model_validate(row) for row in rows])

    @get("/{api_key_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, api_key_id: FromPath[uuid.UUID]) -> Response[ApiKeyPublic]:
        return respond(ApiKeyPublic.model_validate(service.get_api_key(session, api_key_id, actor=actor)))

    @post("/{api_key_id:uuid}/revoke", guards=[allow(Role.ADMIN)], status_code=200)
    def revoke(
        self,
        session: DbSession,
        actor: CurrentActor,
        api_key_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Response[ApiKeyPublic]:
        api_key = service.revoke_api_key(session, api_key_id, actor=actor, expected_version=expected_version)
        return respond(ApiKeyPublic.model_validate(api_key))


class Me(BaseModel):
    user: UserPublic
    organization: OrganizationPublic


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["me"]
    guards = [allow(*EVERYONE)]

    @get("/", description="Who the presented key belongs to.")
    async def read(self, request: Request[Actor, Credential, Any]) -> Me:
        # As authentication read them: at most api_key_cache_seconds old (opscenter/auth/cache.py).
        credential = request.auth
        if not isinstance(credential, Credential):
            raise NotFound("user")
        return Me(user=credential.user, organization=credential.organization)
