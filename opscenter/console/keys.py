"""The console's API key pages: the keys (the admin's and auditors' reading, as the API's list), a key issued for
a user with the whole key shown once, on the answer to the form (never stored, never shown again: the page is not
cached), and a key revoked at the version the page showed. The same service and audit events as
``opscenter/auth/controller.py``; in the shell for the reason ``opscenter/console/admin.py`` gives.

The person is named by login name, typed (filter and form), as the CLI's ``keys create --user`` does; the user's
page links here with the person chosen. So the page reads the users of its own rows only (one query by id), never
the whole user list for a ``<select>``: a province has thousands of people, and the page costs what its JSON list
costs (bench/console_pages.py)."""

import uuid
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from opscenter.auth import service
from opscenter.auth.models import ApiKey, ApiKeyCreate
from opscenter.console.admin import READERS, validated
from opscenter.console.audit import parse_local_instant
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role, User
from opscenter.organizations import service as organizations
from opscenter.pages import AtDesk, Desk, Form, act, attempt, refusal_text, render, version_of
from opscenter.web import DbSession, get, post

PAGE = "/console/api-keys"


def _named(session: Session, actor: Actor, login: str, *, field: str, parameter: bool) -> User:
    """The person whose login name is ``login``, as ``actor`` sees them; a refusal naming ``field`` otherwise."""
    person = organizations.find_user(session, login) if login else None
    if person is None or person.id not in organizations.users_by_id(session, [person.id], actor=actor):
        raise InvalidInput(field, f"没有登录名为 {login} 的用户" if login else "必填", parameter=parameter)
    return person


def _key(session: Session, actor: Actor, data: dict[str, str]) -> ApiKeyCreate:
    expires = parse_local_instant("expires_at", data.get("expires_at", "").strip(), parameter=False)
    user_id = data.get("user_id", "")
    if not user_id:  # the form names the person by login name; a user's page (and the API's shape) by id
        user_id = str(_named(session, actor, data.get("user_name", "").strip(), field="user_name", parameter=False).id)
    fields = {"name": data.get("name", "").strip(), "user_id": user_id}
    return validated(lambda: ApiKeyCreate.model_validate({**fields, "expires_at": expires}))


def _page(
    desk: Desk,
    session: Session,
    *,
    user_id: uuid.UUID | None = None,
    user_name: str = "",
    refusal: DomainError | None = None,
    asked: dict[str, str] | None = None,
) -> Response[str]:
    actor = desk.actor
    rows: list[ApiKey] = []
    next_cursor: str | None = None
    found = (
        None
        if user_id or not user_name
        else attempt(session, lambda: _named(session, actor, user_name, field="user", parameter=True))
    )
    if isinstance(found, DomainError):  # a typed name that names no one: said, and no keys listed
        refusal = found
    else:
        user_id = found.id if found is not None else user_id
        listed = service.list_api_keys(session, actor=actor, page=desk.page, user_id=user_id)
        rows, next_cursor = list(listed), listed.next_cursor
    # The people the page names: its rows' owners and the one it is filtered by, read together by id.
    named = {key.user_id for key in rows} | ({user_id} if user_id else set())
    people = organizations.users_by_id(session, named, actor=actor)
    chosen = people.get(user_id) if user_id else None
    return render(
        desk.request,
        "admin/keys.html",
        status_code=refusal.status if refusal else 200,
        rows=rows,
        next_cursor=next_cursor,
        user_id=user_id,
        user_name=chosen.name if chosen is not None else user_name,
        people=people,
        asked=asked or {},
        problem=refusal_text(refusal) if refusal else "",
        notice="已吊销。" if desk.request.query_params.get("done") else "",
    )


class ApiKeyPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*READERS)]

    @get("/")
    def index(
        self,
        session: DbSession,
        desk: AtDesk,
        user_id: FromQuery[uuid.UUID | None] = None,
        user: FromQuery[str | None] = None,  # the login name typed in the filter
        done: FromQuery[str | None] = None,  # what the form before did (the notice shown)
    ) -> Response[str]:
        return _page(desk, session, user_id=user_id, user_name=(user or "").strip())

    @post("/", guards=[allow(Role.ADMIN)], status_code=200)
    def create(self, session: DbSession, desk: AtDesk, data: Form) -> Response[Any]:
        """The new key is shown once, on this answer's page (no redirect: it is not kept anywhere to show again)."""
        actor = desk.actor
        outcome = attempt(session, lambda: service.create_api_key(session, _key(session, actor, data), actor=actor))
        if isinstance(outcome, DomainError):
            return _page(desk, session, refusal=outcome, asked=data)
        api_key, plaintext = outcome
        owner = organizations.get_user(session, api_key.user_id, actor=actor)
        shown = render(
            desk.request, "admin/key_created.html", status_code=201, api_key=api_key, owner=owner, key=plaintext
        )
        shown.headers["Cache-Control"] = "no-store"  # shown once: not kept by the browser or any proxy
        return shown

    @post("/{api_key_id:uuid}/revoke", guards=[allow(Role.ADMIN)], status_code=200)
    def revoke(self, session: DbSession, desk: AtDesk, api_key_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return act(
            session,
            lambda: service.revoke_api_key(session, api_key_id, actor=desk.actor, expected_version=version_of(data)),
            then=PAGE,
            done="revoke",
            refused=lambda refusal: _page(desk, session, refusal=refusal),
        )
