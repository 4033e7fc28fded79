"""The console's purchase request pages: the bureau's approval queue (approve, reject, return, each with a note
and the version the page showed), a department's requests (submit a draft or a returned one), and each request with
its items, its department's budgets and its history. The same flows, guards and scoping as the API's controller."""

import dataclasses
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, col, select

from contracts.budgets import service as budgets
from contracts.catalog.models import CatalogService
from contracts.purchasing import flows, service
from contracts.purchasing.models import PurchaseStatus
from opscenter.audit import service as audit
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Organization, Role, User
from opscenter.pages import AtDesk, Desk, Done, Form, act, refusal_text, render, version_of
from opscenter.web import DbSession, get, post

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


def _detail(desk: Desk, session: Session, request_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    """The request as it now stands; after a refused action (a stale page, a wrong state, a budget shortfall), with
    what went wrong."""
    purchase = service.get_request(session, request_id, actor=desk.actor)
    department_budgets: list[Any] = []
    if desk.actor.role != Role.OPERATOR:  # 管运分离: what a department spends is not the operations center's business
        rows = budgets.list_budgets(
            session,
            actor=desk.actor,
            page=dataclasses.replace(desk.page, limit=5, cursor=None),
            department_id=purchase.department_id,
        )
        department_budgets = budgets.to_public(session, list(rows))
    history = audit.history(session, purchase, page=dataclasses.replace(desk.page, limit=50, cursor=None))
    return render(
        desk.request,
        "purchasing/detail.html",
        status_code=refusal.status if refusal else 200,
        purchase=purchase,
        department=_names(session, Organization, {purchase.department_id})[purchase.department_id],
        services=_names(session, CatalogService, {item.service_id for item in purchase.items}),
        budgets=department_budgets,
        history=list(history),
        problem=refusal_text(refusal) if refusal else "",
        notice=_DONE.get(desk.request.query_params.get("done", ""), ""),
    )


def _act(desk: Desk, session: Session, request_id: uuid.UUID, done: str, step: Callable[[], Any]) -> Response[Any]:
    return act(
        session, step, then=f"{PAGE}/{request_id}", done=done, refused=partial(_detail, desk, session, request_id)
    )


class PurchaseRequestPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(self, session: DbSession, desk: AtDesk, status: FromQuery[PurchaseStatus | None] = None) -> Response[str]:
        rows = service.list_requests(session, actor=desk.actor, page=desk.page, status=[status] if status else None)
        return render(
            desk.request,
            "purchasing/list.html",
            rows=list(rows),
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(PurchaseStatus),
            departments=_names(session, Organization, {row.department_id for row in rows}),
        )

    @get("/{request_id:uuid}")
    def read(
        self, session: DbSession, desk: AtDesk, request_id: FromPath[uuid.UUID], done: Done = None
    ) -> Response[str]:
        return _detail(desk, session, request_id)

    # Each action: the flow step at the version the form carried.
    @post("/{request_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(self, session: DbSession, desk: AtDesk, request_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        note = data.get("note", "")
        return _act(desk, session, request_id, "approve", lambda: flows.approve(
            session, request_id, actor=desk.actor, expected_version=version_of(data), note=note
        ))  # fmt: skip

    @post("/{request_id:uuid}/reject", guards=[allow(Role.BUREAU)], status_code=200)
    def reject(self, session: DbSession, desk: AtDesk, request_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, request_id, "reject", lambda: flows.reject(
            session, request_id, actor=desk.actor, expected_version=version_of(data), reason=_required(data, "note")
        ))  # fmt: skip

    @post("/{request_id:uuid}/return", guards=[allow(Role.BUREAU)], status_code=200)
    def send_back(self, session: DbSession, desk: AtDesk, request_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, request_id, "return", lambda: flows.send_back(
            session, request_id, actor=desk.actor, expected_version=version_of(data), comment=_required(data, "note")
        ))  # fmt: skip

    @post("/{request_id:uuid}/submit", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def submit(self, session: DbSession, desk: AtDesk, request_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, request_id, "submit", lambda: flows.submit(
            session, request_id, actor=desk.actor, expected_version=version_of(data)
        ))  # fmt: skip


def _required(data: dict[str, str], field: str) -> str:
    """A reason or comment, required as the API's ``Decision.note`` requires it (1 to 2000 characters)."""
    text = data.get(field, "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput(field, "请填写理由或意见（至多 2000 字）")
    return text
