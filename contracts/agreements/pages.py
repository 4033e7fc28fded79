"""The console's contract pages: contracts by state, and each contract with its versions and lines, where the bureau
approves a draft. Four eyes, visible: the page names who drafted it, and the drafter is told a second bureau user
must approve (the flow refuses the drafter, as the API does)."""

import dataclasses
import uuid
from functools import partial
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, col, select

from contracts.agreements import flows, service
from contracts.agreements.models import ContractStatus
from opscenter.audit import service as audit
from opscenter.errors import DomainError
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role, User
from opscenter.pages import AtDesk, Desk, Form, act, refusal_text, render, version_of
from opscenter.web import DbSession, get, post

PAGE = "/console/contracts"


def _detail(desk: Desk, session: Session, contract_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    """The contract as it now stands; after a refused approval (a stale page, the drafter), with what went wrong."""
    contract = service.get_contract(session, contract_id, actor=desk.actor)
    first = dataclasses.replace(desk.page, limit=50, cursor=None)
    versions = list(service.versions_of(session, contract, actor=desk.actor, page=first))
    lines = {version.number: service.visible_lines(version, desk.actor) for version in versions}
    people = {contract.created_by_id} | {version.created_by_id for version in versions}
    names = dict(
        session.exec(select(User.id, User.name).where(col(User.id).in_([p for p in people if p is not None]))).all()
    )
    departments = {line.department_id for version_lines in lines.values() for line in version_lines}
    return render(
        desk.request,
        "agreements/detail.html",
        status_code=refusal.status if refusal else 200,
        contract=contract,
        versions=versions,
        lines=lines,
        drafter=names.get(contract.created_by_id, "") if contract.created_by_id else "",
        drafted_by_me=contract.created_by_id == desk.actor.user_id,
        departments=dict(
            session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(departments))).all()
        ),
        history=list(audit.history(session, contract, page=first)),
        notice="合同已审批生效。" if desk.request.query_params.get("done") else "",
        problem=refusal_text(refusal) if refusal else "",
    )


class ContractPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(self, session: DbSession, desk: AtDesk, status: FromQuery[ContractStatus | None] = None) -> Response[str]:
        rows = service.list_contracts(session, actor=desk.actor, page=desk.page, status=[status] if status else None)
        return render(
            desk.request,
            "agreements/list.html",
            rows=list(rows),
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(ContractStatus),
        )

    @get("/{contract_id:uuid}")
    def read(self, session: DbSession, desk: AtDesk, contract_id: FromPath[uuid.UUID]) -> Response[str]:
        return _detail(desk, session, contract_id)

    @post("/{contract_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(self, session: DbSession, desk: AtDesk, contract_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return act(
            session,
            lambda: flows.approve(session, contract_id, actor=desk.actor, expected_version=version_of(data)),
            then=f"{PAGE}/{contract_id}",
            done="1",
            refused=partial(_detail, desk, session, contract_id),
        )
