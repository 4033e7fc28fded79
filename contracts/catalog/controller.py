import uuid

from litestar import Controller, Response
from litestar.params import FromPath, JSONBody

from contracts.catalog import service
from contracts.catalog.models import (
    CatalogServiceCreate,
    CatalogServicePublic,
    CatalogServiceUpdate,
    ServiceCategory,
    ServiceStatus,
)
from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, delete, get, patch, post, respond


class CatalogController(Controller):
    path = "/api/v1/services"
    tags = ["catalog"]
    guards = [allow(*BUSINESS_ROLES)]

    @post("/", guards=[allow(Role.OPERATOR)])
    def create(
        self, session: DbSession, actor: CurrentActor, data: JSONBody[CatalogServiceCreate]
    ) -> Response[CatalogServicePublic]:
        created = service.create_service(session, data, actor=actor)
        return respond(CatalogServicePublic.model_validate(created), created=f"/api/v1/services/{created.id}")

    @get("/")
    def index(
        self,
        session: DbSession,
        page: Paging,
        category: AnyOf[ServiceCategory] = None,
        status: AnyOf[ServiceStatus] = None,
    ) -> CursorPage[CatalogServicePublic]:
        rows = service.list_services(session, page=page, category=category, status=status)
        return rows.page_of([CatalogServicePublic.model_validate(row) for row in rows])

    @get("/{service_id:uuid}")
    def read(self, session: DbSession, service_id: FromPath[uuid.UUID]) -> Response[CatalogServicePublic]:
        return respond(CatalogServicePublic.model_validate(service.get_service(session, service_id)))

    @patch("/{service_id:uuid}", guards=[allow(Role.OPERATOR)])
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        service_id: FromPath[uuid.UUID],
        data: JSONBody[CatalogServiceUpdate],
        expected_version: ExpectedVersion,
    ) -> Response[CatalogServicePublic]:
        updated = service.update_service(session, service_id, data, actor=actor, expected_version=expected_version)
        return respond(CatalogServicePublic.model_validate(updated))

    @post("/{service_id:uuid}/retire", guards=[allow(Role.OPERATOR)], status_code=200)
    def retire(
        self,
        session: DbSession,
        actor: CurrentActor,
        service_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Response[CatalogServicePublic]:
        retired = service.retire_service(session, service_id, actor=actor, expected_version=expected_version)
        return respond(CatalogServicePublic.model_validate(retired))

    @delete("/{service_id:uuid}", guards=[allow(Role.OPERATOR)], description="Only a service nothing refers to.")
    def remove(
        self,
        session: DbSession,
        actor: CurrentActor,
        service_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> None:
        service.delete_service(session, service_id, actor=actor, expected_version=expected_version)

    @get("/{service_id:uuid}/history", description="Every change of this catalog entry, oldest first.")
    def history(
        self, session: DbSession, service_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_service(session, service_id), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])
