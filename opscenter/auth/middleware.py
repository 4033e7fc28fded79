"""Bearer API-key authentication. Every failure is the same 401, whatever was wrong with the key.

A key seen in the last few seconds is answered from this process's ``CredentialCache`` on the event
loop, with no thread and no database; otherwise it is read in a worker thread, in a read transaction.
``opscenter/auth/cache.py`` states how soon a revocation takes effect. Authenticating never writes: a key's
last-used time is noted and written behind the request (``opscenter/auth/touches.py``).
"""

import time
from datetime import timedelta
from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from opscenter.auth import cache
from opscenter.auth import service as auth
from opscenter.auth.cache import Credential, CredentialCache
from opscenter.auth.touches import KeyTouches
from opscenter.db import Database
from opscenter.identity.models import OrganizationPublic, UserPublic
from opscenter.middleware import client_address_of, request_id_of
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException()
        state = connection.app.state
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
