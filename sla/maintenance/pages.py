"""The console's maintenance window page: the windows by state, and for the bureau each proposal with approve (a note
optional) and reject (a reason required), carrying the version the page showed. The same flows, guards and scoping
as the API's controller (a department reads the windows that touch its instances)."""

import uuid
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from opscenter import names
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pages import Done, Form, attempt, refusal_text, render, see_other, version_of
from opscenter.pagination import PageRequest
from opscenter.web import DbSession, Paging, get, post
from sla.maintenance import flows, service
from sla.maintenance.models import MaintenanceStatus, MaintenanceWindow

PAGE = "/console/maintenance"
_DONE = {"approve": "已批准维护窗口，其时段不计入可用率。", "reject": "已驳回维护窗口。"}


def _listing(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    page: PageRequest,
    status: MaintenanceStatus | None,
    *,
    code: int = 200,
    problem: str = "",
    done: str | None = None,
) -> Response[str]:
    rows = service.list_windows(session, actor=actor, page=page, status=[status] if status else None)
    public = service.to_public(session, rows.rows, actor=actor)
    names.fill(session, public)  # instances and people by name, as the API's answer has them
    return render(
        request,
        "maintenance/list.html",
        status_code=code,
        rows=public,
        next_cursor=rows.next_cursor,
        status=status,
        statuses=list(MaintenanceStatus),
        problem=problem,
        notice=_DONE.get(done or "", ""),
    )


def _decide(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    page: PageRequest,
    action: str,
    step: Callable[[], MaintenanceWindow],
) -> Response[Any]:
    """Do ``step``; a refusal (a stale page, a window already decided or started) shows the proposals as they now
    stand, with what went wrong."""
    outcome = attempt(session, step)
    if isinstance(outcome, DomainError):
        proposed, problem = MaintenanceStatus.PROPOSED, refusal_text(outcome)
        return _listing(request, session, actor, page, proposed, code=outcome.status, problem=problem)
    return see_other(PAGE, status=MaintenanceStatus.PROPOSED.value, done=action)


class MaintenancePages(Controller):
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
        status: FromQuery[MaintenanceStatus | None] = None,
        done: Done = None,
    ) -> Response[str]:
        return _listing(request, session, actor, page, status, done=done)

    @post("/{window_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        window_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        note = data.get("note", "").strip()[:2000]
        return _decide(
            request, session, actor, page, "approve",
            lambda: flows.approve(session, window_id, actor=actor, expected_version=version_of(data), note=note),
        )  # fmt: skip

    @post("/{window_id:uuid}/reject", guards=[allow(Role.BUREAU)], status_code=200)
    def reject(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        window_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _decide(
            request, session, actor, page, "reject",
            lambda: flows.reject(
                session, window_id, actor=actor, expected_version=version_of(data), reason=_reason(data)
            ),
        )  # fmt: skip


def _reason(data: dict[str, str]) -> str:
    """A rejection's reason, required as the API's ``RejectBody.reason`` requires it (1 to 2000 characters)."""
    text = data.get("note", "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput("note", "驳回时请填写理由（至多 2000 字）")
    return text
