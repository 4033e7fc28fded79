"""The console's contract pages: contracts by state, and each contract with its versions and lines, where the bureau
approves a draft. Four eyes, visible: the page names who drafted it, and the drafter is told a second bureau user
must approve (the flow refuses the drafter, as the API does)."""

import dataclasses
import uuid
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, col, select

from contracts.agreements import flows, service
from contracts.agreements.models import ContractStatus
from opscenter.audit import service as audit
from opscenter.errors import DomainError
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role, User
from opscenter.pages import Form, attempt, refusal_text, render, see_other, version_of
from opscenter.web import DbSession, Paging, get, post

PAGE = "/console/contracts"


def _detail(
    request: Request[Any, Any, Any], session: Session, actor: Actor, contract_id: uuid.UUID, page: Any, **shown: Any
) -> Response[str]:
    contract = service.get_contract(session, contract_id, actor=actor)
    first = dataclasses.replace(page, limit=50, cursor=None)
    versions = list(service.versions_of(session, contract, actor=actor, page=first))
    lines = {version.number: service.visible_lines(version, actor) for version in versions}
    people = {contract.created_by_id} | {version.created_by_id for version in versions}
    names = dict(
        session.exec(select(User.id, User.name).where(col(User.id).in_([p for p in people if p is not None]))).all()
    )
    departments = {line.department_id for version_lines in lines.values() for line in version_lines}
    return render(
        request,
        "agreements/detail.html",
        status_code=shown.pop("status", 200),
        contract=contract,
        versions=versions,
        lines=lines,
        drafter=names.get(contract.created_by_id, "") if contract.created_by_id else "",
        drafted_by_me=contract.created_by_id == actor.user_id,
        departments=dict(
            session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(departments))).all()
        ),
        history=list(audit.history(session, contract, page=first)),
        notice="合同已审批生效。" if request.query_params.get("done") else "",
        problem=shown.pop("problem", ""),
    )


class ContractPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: FromQuery[ContractStatus | None] = None,
    ) -> Response[str]:
        rows = service.list_contracts(session, actor=actor, page=page, status=[status] if status else None)
        return render(
            request,
            "agreements/list.html",
            rows=list(rows),
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(ContractStatus),
        )

    @get("/{contract_id:uuid}")
    def read(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        contract_id: FromPath[uuid.UUID],
    ) -> Response[str]:
        return _detail(request, session, actor, contract_id, page)

    @post("/{contract_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        contract_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        outcome = attempt(
            session, lambda: flows.approve(session, contract_id, actor=actor, expected_version=version_of(data))
        )
        if isinstance(outcome, DomainError):
            return _detail(
                request, session, actor, contract_id, page, status=outcome.status, problem=refusal_text(outcome)
            )
        return see_other(f"{PAGE}/{contract_id}", done="1")
