import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody

from contracts.instances import service
from contracts.instances.models import (
    InstanceStatus,
    ServiceInstanceCreate,
    ServiceInstancePublic,
    ServiceInstanceUpdate,
)
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, get, patch, post, respond

Answer = Response[ServiceInstancePublic]


class ServiceInstanceController(Controller):
    path = "/api/v1/service-instances"
    tags = ["service instances"]
    guards = [allow(*BUSINESS_ROLES)]

    @post("/", guards=[allow(Role.OPERATOR)], description="One per line of an approved contract.")
    def provision(self, session: DbSession, actor: CurrentActor, data: JSONBody[ServiceInstanceCreate]) -> Answer:
        instance = service.provision(session, data, actor=actor)
        return respond(service.to_public_one(session, instance), created=f"/api/v1/service-instances/{instance.id}")

    @get("/", description="A department sees the instances of its own contract lines.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        contract_id: FromQuery[uuid.UUID | None] = None,
        status: AnyOf[InstanceStatus] = None,
    ) -> CursorPage[ServiceInstancePublic]:
        rows = service.list_instances(session, actor=actor, page=page, contract_id=contract_id, status=status)
        return rows.page_of(service.to_public(session, rows.rows))

    @get("/{instance_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, instance_id: FromPath[uuid.UUID]) -> Answer:
        return respond(service.to_public_one(session, service.get_instance(session, instance_id, actor=actor)))

    @patch("/{instance_id:uuid}", guards=[allow(Role.OPERATOR)])
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[ServiceInstanceUpdate],
        expected_version: ExpectedVersion,
    ) -> Answer:
        instance = service.update_instance(session, instance_id, data, actor=actor, expected_version=expected_version)
        return respond(service.to_public_one(session, instance))

    @post("/{instance_id:uuid}/decommission", guards=[allow(Role.OPERATOR)], status_code=200)
    def decommission(
        self,
        session: DbSession,
        actor: CurrentActor,
        instance_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Answer:
        instance = service.decommission(session, instance_id, actor=actor, expected_version=expected_version)
        return respond(service.to_public_one(session, instance))
