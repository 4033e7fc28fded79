import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody
from sqlmodel import Session

from contracts.agreements import flows, service
from contracts.agreements.models import (
    AmendmentCreate,
    Contract,
    ContractCreate,
    ContractPublic,
    ContractStatus,
    ContractUpdate,
    ContractVersionPublic,
    Termination,
)
from contracts.agreements.service import ContractSort
from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.search import SearchQuery
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, get, post, put, respond
from opscenter.workflow import ApproveBody, approval_note

ContractAnswer = Response[ContractPublic]
VersionAnswer = Response[ContractVersionPublic]


class ContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]
    guards = [allow(*BUSINESS_ROLES)]

    @post("/", guards=[allow(Role.BUREAU)], description="A draft from approved purchase requests.")
    def create(self, session: DbSession, actor: CurrentActor, data: JSONBody[ContractCreate]) -> ContractAnswer:
        contract = service.create_draft(session, data, actor=actor)
        return respond(
            service.to_public_one(session, contract, actor=actor), created=f"/api/v1/contracts/{contract.id}"
        )

    @get(
        "/",
        description="Departments: contracts they benefit from, with their own lines only. `sort`: `newest` (the "
        "default), `oldest` or `number`. `q`: a part of the number or the title, case-insensitive.",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: AnyOf[ContractStatus] = None,
        q: SearchQuery = None,
        sort: FromQuery[ContractSort] = ContractSort.NEWEST,
    ) -> CursorPage[ContractPublic]:
        rows = service.list_contracts(session, actor=actor, page=page, status=status, q=q, sort=sort)
        return rows.page_of(service.to_public(session, rows.rows, actor=actor))

    @get("/{contract_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, contract_id: FromPath[uuid.UUID]) -> ContractAnswer:
        return _contract(session, service.get_contract(session, contract_id, actor=actor), actor)

    @put("/{contract_id:uuid}", guards=[allow(Role.BUREAU)], description="Only while it is a draft.")
    def replace(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[ContractUpdate],
        expected_version: ExpectedVersion,
    ) -> ContractAnswer:
        contract = service.update_draft(session, contract_id, data, actor=actor, expected_version=expected_version)
        return _contract(session, contract, actor)

    @post(
        "/{contract_id:uuid}/approve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="By a bureau user other than the one who drafted it (403 otherwise).",
    )
    def approve(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
        data: JSONBody[ApproveBody | None] = None,
    ) -> ContractAnswer:
        note = approval_note(data)
        contract = flows.approve(session, contract_id, actor=actor, expected_version=expected_version, note=note)
        return _contract(session, contract, actor)

    @post("/{contract_id:uuid}/discard", guards=[allow(Role.BUREAU)], status_code=200)
    def discard(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> ContractAnswer:
        return _contract(
            session, flows.discard(session, contract_id, actor=actor, expected_version=expected_version), actor
        )

    @post("/{contract_id:uuid}/terminate", guards=[allow(Role.BUREAU)], status_code=200)
    def terminate(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[Termination],
        expected_version: ExpectedVersion,
    ) -> ContractAnswer:
        contract = flows.terminate(session, contract_id, data, actor=actor, expected_version=expected_version)
        return _contract(session, contract, actor)

    @post(
        "/{contract_id:uuid}/amendments",
        guards=[allow(Role.BUREAU)],
        description="Drafts the next version; a second bureau user approves it.",
    )
    def amend(
        self, session: DbSession, actor: CurrentActor, contract_id: FromPath[uuid.UUID], data: JSONBody[AmendmentCreate]
    ) -> VersionAnswer:
        version = flows.amend(session, contract_id, data, actor=actor)
        return respond(
            service.version_public(version, actor=actor),
            created=f"/api/v1/contracts/{contract_id}/versions/{version.number}",
        )

    @get("/{contract_id:uuid}/versions", description="Every version, the contract as signed first.")
    def versions(
        self, session: DbSession, actor: CurrentActor, contract_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[ContractVersionPublic]:
        contract = service.get_contract(session, contract_id, actor=actor)
        rows = service.versions_of(session, contract, actor=actor, page=page)
        return rows.page_of([service.version_public(row, actor=actor) for row in rows])

    @get("/{contract_id:uuid}/versions/{number:int}")
    def version(
        self, session: DbSession, actor: CurrentActor, contract_id: FromPath[uuid.UUID], number: FromPath[int]
    ) -> VersionAnswer:
        contract = service.get_contract(session, contract_id, actor=actor)
        return respond(service.version_public(service.get_version(session, contract, number, actor=actor), actor=actor))

    @post(
        "/{contract_id:uuid}/versions/{number:int}/approve",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="By a bureau user other than the one who drafted the amendment.",
    )
    def approve_version(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        number: FromPath[int],
        expected_version: ExpectedVersion,
        data: JSONBody[ApproveBody | None] = None,
    ) -> VersionAnswer:
        version = flows.approve_amendment(
            session, contract_id, number, actor=actor, expected_version=expected_version, note=approval_note(data)
        )
        return respond(service.version_public(version, actor=actor))

    @post("/{contract_id:uuid}/versions/{number:int}/discard", guards=[allow(Role.BUREAU)], status_code=200)
    def discard_version(
        self,
        session: DbSession,
        actor: CurrentActor,
        contract_id: FromPath[uuid.UUID],
        number: FromPath[int],
        expected_version: ExpectedVersion,
    ) -> VersionAnswer:
        version = flows.discard_amendment(session, contract_id, number, actor=actor, expected_version=expected_version)
        return respond(service.version_public(version, actor=actor))

    @get("/{contract_id:uuid}/history", description="Every step of this contract, oldest first.")
    def history(
        self, session: DbSession, actor: CurrentActor, contract_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_contract(session, contract_id, actor=actor), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])


def _contract(session: Session, contract: Contract, actor: Actor) -> ContractAnswer:
    return respond(service.to_public_one(session, contract, actor=actor))
