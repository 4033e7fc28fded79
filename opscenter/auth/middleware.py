"""Who is behind a request: one path for machines and people. Every failure is the same 401, whatever was wrong.

A machine sends ``Authorization: Bearer <api key>``; a person in the console carries a session cookie, honoured
only under ``/console`` (the API never reads it, so no other site can make a browser call the API as its person).
Either way the request gets the same ``Actor``, and the routes the same guards.

A key seen in the last few seconds is answered from this process's ``CredentialCache`` on the event
loop, with no thread and no database; otherwise it is read in a worker thread, in a read transaction.
``opscenter/auth/cache.py`` states how soon a revocation takes effect. A session is read from the database on
every request, so its revocation holds at once on every process. Authenticating never writes: a key's last-used
time and a session's last-seen time are noted and written behind the request (``opscenter/auth/touches.py``).
"""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from opscenter.auth import cache, sessions
from opscenter.auth import service as auth
from opscenter.auth.cache import Credential, CredentialCache
from opscenter.auth.touches import KeyTouches
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrganizationPublic, UserPublic
from opscenter.middleware import client_address_of, request_id_of
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow

CONSOLE_PATH = "/console"


def is_console(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


@dataclass(frozen=True, slots=True)
class PersonSession:
    """A logged-in person's session, as read from the database for this request."""

    session_id: uuid.UUID
    token: str
    user: UserPublic
    organization: OrganizationPublic
    must_change_password: bool

    def actor(self, request_id: str) -> Actor:
        return Actor(
            user_id=self.user.id,
            user_name=self.user.name,
            organization_id=self.organization.id,
            org_kind=self.organization.kind,
            role=self.user.role,
            request_id=request_id,
        )

    @property
    def csrf_token(self) -> str:
        return sessions.csrf_token(self.token)


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        authorization = connection.headers.get("authorization")
        state = connection.app.state
        if authorization is None and is_console(connection.scope["path"]):
            token = connection.cookies.get(sessions.COOKIE, "")
            person = await sync_to_thread(authenticate_person, state.db, state.settings, token, state.session_touches)
            if person is None:
                raise NotAuthorizedException()
            return AuthenticationResult(user=person.actor(request_id_of(connection.scope)), auth=person)
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException()
        credentials: CredentialCache = state.credentials
        key_hash = auth.hash_key(token)
        credential = credentials.get(key_hash, now=time.monotonic())
        if credential is None:
            read_at, seen = time.monotonic(), cache.generation()
            credential = await sync_to_thread(authenticate, state.db, state.settings, token, state.key_touches)
            if credential is None:
                raise NotAuthorizedException()
            credentials.put(key_hash, credential, read_at=read_at, seen=seen)
        scope = connection.scope
        return AuthenticationResult(
            user=credential.actor(request_id_of(scope), client_address_of(scope)), auth=credential
        )


def authenticate(db: Database, settings: Settings, token: str, touches: KeyTouches) -> Credential | None:
    """Who is behind ``token``, read from the database, or None. Runs in a worker thread; never writes."""
    interval = timedelta(seconds=settings.api_key_touch_interval_seconds)
    with db.transaction(write=False) as session:
        resolved = auth.resolve_key(session, token, touch_interval=interval)
        if resolved is None:
            return None
        credential = Credential(
            api_key_id=resolved.api_key_id,
            expires_at=resolved.expires_at,
            user=UserPublic.model_validate(resolved.user),
            organization=OrganizationPublic.model_validate(resolved.organization),
        )
    if resolved.needs_touch:
        touches.note(resolved.api_key_id, utcnow())
    return credential


def authenticate_person(db: Database, settings: Settings, token: str, touches: KeyTouches) -> PersonSession | None:
    """The person behind a session cookie's ``token``, or None. Runs in a worker thread; never writes."""
    if not token:
        return None
    with db.single_read() as connection:
        resolved = sessions.resolve_session(
            connection,
            token,
            idle=timedelta(minutes=settings.console_idle_minutes),
            touch_interval=sessions.TOUCH_INTERVAL,
        )
    if resolved is None:
        return None
    person = PersonSession(
        session_id=resolved.session_id,
        token=token,
        user=resolved.user,
        organization=resolved.organization,
        must_change_password=resolved.must_change_password,
    )
    if resolved.needs_touch:
        touches.note(resolved.session_id, utcnow())
    return person
