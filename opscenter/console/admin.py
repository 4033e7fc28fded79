"""The console's admin pages: organizations, users (create; deactivate and reactivate; a one-time password the
person must change at the next login, as ``opscenter users set-password`` sets it; their open sessions, ended one
by one or all at once) and API keys (issued with the key shown once, on the answer's page; revoked). The same
services, guards and audit events as the API's controllers (``opscenter/organizations``, ``opscenter/auth``);
auditors read what the API lets them read, only the admin changes anything.

In the shell, not beside those controllers: ``opscenter.pages`` stands on ``opscenter.auth``, which stands on
``opscenter.organizations``, so a ``pages.py`` in either would close an import circle."""

import dataclasses
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from pydantic import ValidationError
from sqlmodel import Session

from opscenter.auth import logins, passwords, sessions
from opscenter.errors import DomainError, FieldError, InvalidInputs
from opscenter.identity.actor import Actor
from opscenter.identity.guards import allow
from opscenter.identity.models import (
    ROLES_BY_KIND,
    OrganizationCreate,
    OrgKind,
    Role,
    UserCreate,
    UserUpdate,
)
from opscenter.organizations import service as organizations
from opscenter.pages import AtDesk, Desk, Form, act, refusal_text, render, version_of
from opscenter.pagination import PageRequest
from opscenter.web import DbSession, get, post

T = TypeVar("T")
USERS, ORGANIZATIONS = "/console/users", "/console/organizations"
READERS = (Role.ADMIN, Role.AUDITOR)  # as the API's user list: the admin and those who audit
_DONE = {
    "create": "已创建用户。",
    "deactivate": "已停用，其所有会话已结束。",
    "activate": "已重新启用。",
    "password": "已设置一次性密码：请当面或经安全渠道告知本人，其下次登录时须改为自己的密码。",
    "session": "已结束该会话。",
    "sessions": "已结束其所有会话。",
}


def validated(make: Callable[[], T]) -> T:
    """A body model built from a form's fields; its refusals as the API's 422, each field named."""
    try:
        return make()
    except ValidationError as refused:
        errors = [FieldError(".".join(str(part) for part in error["loc"]), error["msg"]) for error in refused.errors()]
        raise InvalidInputs("; ".join(f"{e.field}: {e.message}" for e in errors), errors) from None


def all_organizations(session: Session, actor: Actor, page: PageRequest) -> dict[uuid.UUID, Any]:
    rows = organizations.list_organizations(
        session, actor=actor, page=dataclasses.replace(page, limit=500, cursor=None)
    )
    return {row.id: row for row in rows}


class OrganizationPages(Controller):
    path = ORGANIZATIONS
    include_in_schema = False
    guards = [allow(*READERS)]

    @get("/")
    def index(
        self,
        session: DbSession,
        desk: AtDesk,
        kind: FromQuery[OrgKind | None] = None,
        done: FromQuery[str | None] = None,  # what the form before did (the notice shown)
    ) -> Response[str]:
        return _organizations(desk, session, kind=kind)

    @post("/", guards=[allow(Role.ADMIN)], status_code=200)
    def create(self, session: DbSession, desk: AtDesk, data: Form) -> Response[Any]:
        fields = {"name": data.get("name", "").strip(), "kind": data.get("kind")}
        return act(
            session,
            lambda: organizations.create_organization(
                session, validated(lambda: OrganizationCreate.model_validate(fields)), actor=desk.actor
            ),
            then=ORGANIZATIONS,
            done="1",
            refused=lambda refusal: _organizations(desk, session, refusal=refusal, asked=data),
        )


def _organizations(
    desk: Desk,
    session: Session,
    *,
    kind: OrgKind | None = None,
    refusal: DomainError | None = None,
    asked: dict[str, str] | None = None,
) -> Response[str]:
    rows = organizations.list_organizations(session, actor=desk.actor, page=desk.page, kind=[kind] if kind else None)
    return render(
        desk.request,
        "admin/organizations.html",
        status_code=refusal.status if refusal else 200,
        rows=list(rows),
        next_cursor=rows.next_cursor,
        kind=kind,
        kinds=list(OrgKind),
        asked=asked or {},
        problem=refusal_text(refusal) if refusal else "",
        notice="已创建组织。" if desk.request.query_params.get("done") else "",
    )


class UserPages(Controller):
    path = USERS
    include_in_schema = False
    guards = [allow(*READERS)]

    @get("/")
    def index(
        self,
        session: DbSession,
        desk: AtDesk,
        organization_id: FromQuery[uuid.UUID | None] = None,
        role: FromQuery[Role | None] = None,
    ) -> Response[str]:
        return _users(desk, session, organization_id=organization_id, role=role)

    @post("/", guards=[allow(Role.ADMIN)], status_code=200)
    def create(self, session: DbSession, desk: AtDesk, data: Form) -> Response[Any]:
        fields = {name: data.get(name, "").strip() for name in ("name", "display_name", "role", "organization_id")}
        return act(
            session,
            lambda: organizations.create_user(
                session, validated(lambda: UserCreate.model_validate(fields)), actor=desk.actor
            ),
            then=lambda user: f"{USERS}/{user.id}",
            done="create",
            refused=lambda refusal: _users(desk, session, refusal=refusal, asked=fields),
        )

    @get("/{user_id:uuid}")
    def read(
        self,
        session: DbSession,
        desk: AtDesk,
        user_id: FromPath[uuid.UUID],
        done: FromQuery[str | None] = None,  # what the form before did (the notice shown)
    ) -> Response[str]:
        return _user(desk, session, user_id)

    @post("/{user_id:uuid}/deactivate", guards=[allow(Role.ADMIN)], status_code=200)
    def deactivate(self, session: DbSession, desk: AtDesk, user_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, user_id, "deactivate", lambda: _active(session, desk, user_id, data, active=False))

    @post("/{user_id:uuid}/activate", guards=[allow(Role.ADMIN)], status_code=200)
    def activate(self, session: DbSession, desk: AtDesk, user_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, user_id, "activate", lambda: _active(session, desk, user_id, data, active=True))

    @post("/{user_id:uuid}/password", guards=[allow(Role.ADMIN)], status_code=200)
    def set_password(self, session: DbSession, desk: AtDesk, user_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        """A one-time password, as ``opscenter users set-password`` sets it: the person must change it first."""

        def step() -> Any:
            user = organizations.get_user(session, user_id, actor=desk.actor)
            return passwords.set_password(session, user, data.get("password", ""), actor=desk.actor, must_change=True)

        return _act(desk, session, user_id, "password", step)

    @post("/{user_id:uuid}/sessions/{session_id:uuid}/revoke", guards=[allow(Role.ADMIN)], status_code=200)
    def revoke_session(
        self, session: DbSession, desk: AtDesk, user_id: FromPath[uuid.UUID], session_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        def step() -> None:
            organizations.get_user(session, user_id, actor=desk.actor)
            logins.end_session(session, user_id, session_id, actor=desk.actor)

        return _act(desk, session, user_id, "session", step)

    @post("/{user_id:uuid}/sessions/revoke", guards=[allow(Role.ADMIN)], status_code=200)
    def revoke_sessions(self, session: DbSession, desk: AtDesk, user_id: FromPath[uuid.UUID]) -> Response[Any]:
        def step() -> int:
            user = organizations.get_user(session, user_id, actor=desk.actor)
            return logins.end_sessions(session, user, actor=desk.actor)

        return _act(desk, session, user_id, "sessions", step)


def _active(session: Session, desk: Desk, user_id: uuid.UUID, data: dict[str, str], *, active: bool) -> Any:
    """Through the API's update, at the version the page showed: deactivating ends every session of the user in the
    same transaction (``opscenter.auth.sessions``); the last active admin cannot be deactivated."""
    change = UserUpdate(is_active=active)
    return organizations.update_user(session, user_id, change, actor=desk.actor, expected_version=version_of(data))


def _act(desk: Desk, session: Session, user_id: uuid.UUID, done: str, step: Callable[[], Any]) -> Response[Any]:
    return act(session, step, then=f"{USERS}/{user_id}", done=done, refused=partial(_user, desk, session, user_id))


def _users(
    desk: Desk,
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    role: Role | None = None,
    refusal: DomainError | None = None,
    asked: dict[str, str] | None = None,
) -> Response[str]:
    rows = organizations.list_users(
        session, actor=desk.actor, page=desk.page, organization_id=organization_id, role=[role] if role else None
    )
    return render(
        desk.request,
        "admin/users.html",
        status_code=refusal.status if refusal else 200,
        rows=list(rows),
        next_cursor=rows.next_cursor,
        organization_id=organization_id,
        role=role,
        roles=list(Role),
        organizations=all_organizations(session, desk.actor, desk.page),
        roles_by_kind=ROLES_BY_KIND,
        asked=asked or {},
        problem=refusal_text(refusal) if refusal else "",
    )


def _user(desk: Desk, session: Session, user_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    user = organizations.get_user(session, user_id, actor=desk.actor)
    organization = organizations.get_organization(session, user.organization_id, actor=desk.actor)
    return render(
        desk.request,
        "admin/user.html",
        status_code=refusal.status if refusal else 200,
        user=user,
        organization=organization,
        open_sessions=sessions.list_sessions(session, user.id),
        problem=refusal_text(refusal) if refusal else "",
        notice=_DONE.get(desk.request.query_params.get("done", ""), ""),
    )
