import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.identity.models import (
    OrganizationCreate,
    OrganizationPublic,
    OrganizationUpdate,
    OrgKind,
    Role,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from opscenter.organizations import service
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, get, patch, post, respond


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]
    guards = [allow(*EVERYONE)]

    @post("/", guards=[allow(Role.ADMIN)])
    def create(
        self, session: DbSession, actor: CurrentActor, data: JSONBody[OrganizationCreate]
    ) -> Response[OrganizationPublic]:
        organization = service.create_organization(session, data, actor=actor)
        return respond(
            OrganizationPublic.model_validate(organization), created=f"/api/v1/organizations/{organization.id}"
        )

    @get("/", description="A department sees only its own organization.")
    def index(
        self, session: DbSession, actor: CurrentActor, page: Paging, kind: AnyOf[OrgKind] = None
    ) -> CursorPage[OrganizationPublic]:
        rows = service.list_organizations(session, actor=actor, page=page, kind=kind)
        return rows.page_of([OrganizationPublic.model_validate(row) for row in rows])

    @get("/{organization_id:uuid}")
    def read(
        self, session: DbSession, actor: CurrentActor, organization_id: FromPath[uuid.UUID]
    ) -> Response[OrganizationPublic]:
        organization = service.get_organization(session, organization_id, actor=actor)
        return respond(OrganizationPublic.model_validate(organization))

    @patch("/{organization_id:uuid}", guards=[allow(Role.ADMIN)])
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationUpdate],
        expected_version: ExpectedVersion,
    ) -> Response[OrganizationPublic]:
        organization = service.update_organization(
            session, organization_id, data, actor=actor, expected_version=expected_version
        )
        return respond(OrganizationPublic.model_validate(organization))


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @post("/", guards=[allow(Role.ADMIN)])
    def create(self, session: DbSession, actor: CurrentActor, data: JSONBody[UserCreate]) -> Response[UserPublic]:
        user = service.create_user(session, data, actor=actor)
        return respond(UserPublic.model_validate(user), created=f"/api/v1/users/{user.id}")

    @get("/")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        organization_id: FromQuery[uuid.UUID | None] = None,
        role: AnyOf[Role] = None,
    ) -> CursorPage[UserPublic]:
        rows = service.list_users(session, actor=actor, page=page, organization_id=organization_id, role=role)
        return rows.page_of([UserPublic.model_validate(row) for row in rows])

    @get("/{user_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, user_id: FromPath[uuid.UUID]) -> Response[UserPublic]:
        return respond(UserPublic.model_validate(service.get_user(session, user_id, actor=actor)))

    @patch("/{user_id:uuid}", guards=[allow(Role.ADMIN)])
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserUpdate],
        expected_version: ExpectedVersion,
    ) -> Response[UserPublic]:
        user = service.update_user(session, user_id, data, actor=actor, expected_version=expected_version)
        return respond(UserPublic.model_validate(user))
