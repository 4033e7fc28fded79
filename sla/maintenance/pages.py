"""The console's maintenance window page: the windows by state, and for the bureau each proposal with approve (a note
optional) and reject (a reason required), carrying the version the page showed. The same flows, guards and scoping
as the API's controller (a department reads the windows that touch its instances)."""

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from opscenter import names
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pages import AtDesk, Desk, Done, Form, act, refusal_text, render, version_of
from opscenter.web import DbSession, get, post
from sla.maintenance import flows, service
from sla.maintenance.models import MaintenanceStatus

PAGE = "/console/maintenance"
_DONE = {"approve": "已批准维护窗口，其时段不计入可用率。", "reject": "已驳回维护窗口。"}


def _listing(
    desk: Desk,
    session: Session,
    status: MaintenanceStatus | None,
    refusal: DomainError | None = None,
    *,
    done: str | None = None,
) -> Response[str]:
    """The windows; after a refused decision (a stale page, a window already decided or started), the proposals as
    they now stand, with what went wrong."""
    rows = service.list_windows(session, actor=desk.actor, page=desk.page, status=[status] if status else None)
    public = service.to_public(session, rows.rows, actor=desk.actor)
    names.fill(session, public)  # instances and people by name, as the API's answer has them
    return render(
        desk.request,
        "maintenance/list.html",
        status_code=refusal.status if refusal else 200,
        rows=public,
        next_cursor=rows.next_cursor,
        status=status,
        statuses=list(MaintenanceStatus),
        problem=refusal_text(refusal) if refusal else "",
        notice=_DONE.get(done or "", ""),
    )


def _decide(desk: Desk, session: Session, done: str, step: Callable[[], Any]) -> Response[Any]:
    proposed = MaintenanceStatus.PROPOSED
    return act(
        session, step, then=PAGE, done=done, refused=partial(_listing, desk, session, proposed), status=proposed.value
    )


class MaintenancePages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(
        self, session: DbSession, desk: AtDesk, status: FromQuery[MaintenanceStatus | None] = None, done: Done = None
    ) -> Response[str]:
        return _listing(desk, session, status, done=done)

    @post("/{window_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(self, session: DbSession, desk: AtDesk, window_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        note = data.get("note", "").strip()[:2000]
        return _decide(desk, session, "approve", lambda: flows.approve(
            session, window_id, actor=desk.actor, expected_version=version_of(data), note=note
        ))  # fmt: skip

    @post("/{window_id:uuid}/reject", guards=[allow(Role.BUREAU)], status_code=200)
    def reject(self, session: DbSession, desk: AtDesk, window_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _decide(desk, session, "reject", lambda: flows.reject(
            session, window_id, actor=desk.actor, expected_version=version_of(data), reason=_reason(data)
        ))  # fmt: skip


def _reason(data: dict[str, str]) -> str:
    """A rejection's reason, required as the API's ``RejectBody.reason`` requires it (1 to 2000 characters)."""
    text = data.get("note", "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput("note", "驳回时请填写理由（至多 2000 字）")
    return text
