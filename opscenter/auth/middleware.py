"""Bearer API-key authentication. Every failure is the same 401, whatever was wrong with the key."""

from datetime import timedelta
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from opscenter.auth import service as auth
from opscenter.auth.actor import Actor
from opscenter.db import Database
from opscenter.middleware import request_id_of
from opscenter.settings import Settings


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException()
        state = connection.app.state
        actor = await anyio.to_thread.run_sync(
            authenticate, state.db, state.settings, token.strip(), request_id_of(connection.scope)
        )
        if actor is None:
            raise NotAuthorizedException()
        return AuthenticationResult(user=actor, auth=None)


def authenticate(db: Database, settings: Settings, token: str, request_id: str) -> Actor | None:
    """The actor behind ``token``, or None. Runs in a worker thread: it talks to the database."""
    interval = timedelta(seconds=settings.api_key_touch_interval_seconds)
    with db.transaction(write=False) as session:
        credential = auth.resolve_key(session, token, touch_interval=interval)
    if credential is None:
        return None
    if credential.needs_touch:
        with db.transaction(write=True) as session:
            auth.touch_key(session, credential.api_key_id, touch_interval=interval)
    user, organization = credential.user, credential.organization
    return Actor(
        user_id=user.id,
        user_name=user.name,
        organization_id=organization.id,
        org_kind=organization.kind,
        role=user.role,
        request_id=request_id,
    )
