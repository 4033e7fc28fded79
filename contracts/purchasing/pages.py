"""The console's purchase request pages: the bureau's approval queue (approve, reject, return, each with a note
and the version the page showed), a department's requests (submit a draft or a returned one), and each request with
its items, its department's budgets and its history. The same flows, guards and scoping as the API's controller."""

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, col, select

from contracts.budgets import service as budgets
from contracts.catalog.models import CatalogService
from contracts.purchasing import flows, service
from contracts.purchasing.models import PurchaseRequest, PurchaseStatus
from opscenter.audit import service as audit
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role, User
from opscenter.pages import Done, Form, attempt, refusal_text, render, see_other, version_of
from opscenter.web import DbSession, Paging, get, post

PAGE = "/console/purchase-requests"
_DONE = {
    "approve": "已批准，预算已预留。",
    "reject": "已驳回。",
    "return": "已退回部门修改。",
    "submit": "已提交管理局审批。",
}


def _names(session: Session, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    name = model.display_name if model is User else model.name
    return dict(session.exec(select(model.id, name).where(col(model.id).in_(ids))).all())


def _detail(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    request_id: uuid.UUID,
    *,
    status: int = 200,
    problem: str = "",
    page: Any,
) -> Response[str]:
    purchase = service.get_request(session, request_id, actor=actor)
    department_budgets: list[Any] = []
    if actor.role != Role.OPERATOR:  # 管运分离: what a department spends is not the operations center's business
        rows = budgets.list_budgets(
            session,
            actor=actor,
            page=dataclasses.replace(page, limit=5, cursor=None),
            department_id=purchase.department_id,
        )
        department_budgets = budgets.to_public(session, list(rows))
    history = audit.history(session, purchase, page=dataclasses.replace(page, limit=50, cursor=None))
    return render(
        request,
        "purchasing/detail.html",
        status_code=status,
        purchase=purchase,
        department=_names(session, Organization, {purchase.department_id})[purchase.department_id],
        services=_names(session, CatalogService, {item.service_id for item in purchase.items}),
        budgets=department_budgets,
        history=list(history),
        problem=problem,
        notice=_DONE.get(request.query_params.get("done", ""), ""),
    )


def _act(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    request_id: uuid.UUID,
    page: Any,
    action: str,
    step: Callable[[int], PurchaseRequest],
    data: dict[str, str],
) -> Response[Any]:
    """Do ``step`` at the version the form carried; a refusal (a stale page, a wrong state, a budget shortfall)
    shows the request as it now stands, with what went wrong."""
    outcome = attempt(session, lambda: step(version_of(data)))
    if isinstance(outcome, DomainError):
        return _detail(
            request, session, actor, request_id, status=outcome.status, problem=refusal_text(outcome), page=page
        )
    return see_other(f"{PAGE}/{request_id}", done=action)


class PurchaseRequestPages(Controller):
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
        status: FromQuery[PurchaseStatus | None] = None,
    ) -> Response[str]:
        rows = service.list_requests(session, actor=actor, page=page, status=[status] if status else None)
        return render(
            request,
            "purchasing/list.html",
            rows=list(rows),
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(PurchaseStatus),
            departments=_names(session, Organization, {row.department_id for row in rows}),
        )

    @get("/{request_id:uuid}")
    def read(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        request_id: FromPath[uuid.UUID],
        done: Done = None,
    ) -> Response[str]:
        return _detail(request, session, actor, request_id, page=page)

    @post("/{request_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        note = data.get("note", "")
        return _act(
            request, session, actor, request_id, page, "approve",
            lambda version: flows.approve(session, request_id, actor=actor, expected_version=version, note=note),
            data,
        )  # fmt: skip

    @post("/{request_id:uuid}/reject", guards=[allow(Role.BUREAU)], status_code=200)
    def reject(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, request_id, page, "reject",
            lambda version: flows.reject(
                session, request_id, actor=actor, expected_version=version, reason=_required(data, "note")
            ),
            data,
        )  # fmt: skip

    @post("/{request_id:uuid}/return", guards=[allow(Role.BUREAU)], status_code=200)
    def send_back(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, request_id, page, "return",
            lambda version: flows.send_back(
                session, request_id, actor=actor, expected_version=version, comment=_required(data, "note")
            ),
            data,
        )  # fmt: skip

    @post("/{request_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, request_id, page, "submit",
            lambda version: flows.submit(session, request_id, actor=actor, expected_version=version),
            data,
        )  # fmt: skip


def _required(data: dict[str, str], field: str) -> str:
    """A reason or comment, required as the API's ``Decision.note`` requires it (1 to 2000 characters)."""
    text = data.get(field, "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput(field, "请填写理由或意见（至多 2000 字）")
    return text
