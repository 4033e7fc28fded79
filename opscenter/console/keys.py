"""The console's API key pages: the keys (the admin's and auditors' reading, as the API's list), a key issued for
a user with the whole key shown once, on the answer to the form (never stored, never shown again: the page is not
cached), and a key revoked at the version the page showed. The same service and audit events as
``opscenter/auth/controller.py``; in the shell for the reason ``opscenter/console/admin.py`` gives."""

import dataclasses
import uuid
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from opscenter.auth import service
from opscenter.auth.models import ApiKey, ApiKeyCreate
from opscenter.console.admin import READERS, validated
from opscenter.console.audit import parse_local_instant
from opscenter.errors import DomainError
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.organizations import service as organizations
from opscenter.pages import Form, attempt, refusal_text, render, see_other, version_of
from opscenter.pagination import PageRequest
from opscenter.web import DbSession, Paging, get, post

PAGE = "/console/api-keys"


def _key(data: dict[str, str]) -> ApiKeyCreate:
    expires = parse_local_instant("expires_at", data.get("expires_at", "").strip(), parameter=False)

    fields = {"name": data.get("name", "").strip(), "user_id": data.get("user_id", "")}
    return validated(lambda: ApiKeyCreate.model_validate({**fields, "expires_at": expires}))


def _page(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    page: PageRequest,
    *,
    user_id: uuid.UUID | None = None,
    status: int = 200,
    problem: str = "",
    asked: dict[str, str] | None = None,
) -> Response[str]:
    rows = service.list_api_keys(session, actor=actor, page=page, user_id=user_id)
    people = organizations.list_users(session, actor=actor, page=dataclasses.replace(page, limit=500, cursor=None))
    return render(
        request,
        "admin/keys.html",
        status_code=status,
        rows=list(rows),
        next_cursor=rows.next_cursor,
        user_id=user_id,
        people={person.id: person for person in people},
        asked=asked or {},
        problem=problem,
        notice="已吊销。" if request.query_params.get("done") else "",
    )


class ApiKeyPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*READERS)]

    @get("/")
    def index(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        user_id: FromQuery[uuid.UUID | None] = None,
        done: FromQuery[str | None] = None,  # what the form before did (the notice shown)
    ) -> Response[str]:
        return _page(request, session, actor, page, user_id=user_id)

    @post("/", guards=[allow(Role.ADMIN)], status_code=200)
    def create(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, page: Paging, data: Form
    ) -> Response[Any]:
        outcome = attempt(session, lambda: service.create_api_key(session, _key(data), actor=actor))
        if isinstance(outcome, DomainError):
            return _page(
                request, session, actor, page, status=outcome.status, problem=refusal_text(outcome), asked=data
            )
        api_key, plaintext = outcome
        owner = organizations.get_user(session, api_key.user_id, actor=actor)
        shown = render(request, "admin/key_created.html", status_code=201, api_key=api_key, owner=owner, key=plaintext)
        shown.headers["Cache-Control"] = "no-store"  # shown once: not kept by the browser or any proxy
        return shown

    @post("/{api_key_id:uuid}/revoke", guards=[allow(Role.ADMIN)], status_code=200)
    def revoke(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        api_key_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        outcome: ApiKey | DomainError = attempt(
            session,
            lambda: service.revoke_api_key(session, api_key_id, actor=actor, expected_version=version_of(data)),
        )
        if isinstance(outcome, DomainError):
            return _page(request, session, actor, page, status=outcome.status, problem=refusal_text(outcome))
        return see_other(PAGE, done="revoke")
