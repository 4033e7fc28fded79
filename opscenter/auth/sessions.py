"""Console sessions: server-side, in the database, so that every API process knows them and each can be revoked.

The browser holds a random token in an HttpOnly cookie; the database holds only its SHA-256. A session ends when
its person logs out (or logs out everywhere), when it stays idle past ``console_idle_minutes``, at its absolute end
(``console_session_hours``), and when its user is deactivated (every session of theirs is revoked in the same
transaction). The CSRF token of a session is derived from its token, so it is never stored.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, event, or_, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from opscenter.auth.models import ConsoleSession, Password
from opscenter.db import core_table
from opscenter.identity.models import Organization, OrganizationPublic, User, UserPublic
from opscenter.timekeeping import utcnow

COOKIE = "opscenter_session"
# A session's last-seen time is written at most this often: the idle timeout holds to within it.
TOUCH_INTERVAL = timedelta(seconds=30)


def hash_token(token: str) -> str:
    # 256 random bits: a fast hash is enough, as for API keys.
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of the session whose cookie holds ``token``: an HMAC of it, so nothing more is stored and a
    page's token is worthless without the HttpOnly cookie it was derived from."""
    return hmac.new(token.encode(), b"opscenter console csrf", hashlib.sha256).hexdigest()


def csrf_matches(token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(token).encode(), sent.encode())


def open_session(
    session: Session, user: User, *, lifetime: timedelta, address: str, user_agent: str
) -> tuple[ConsoleSession, str]:
    """A new session for ``user``; returns it and the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    console_session = ConsoleSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        address=address[:64],
        user_agent=user_agent[:200],
    )
    session.add(console_session)
    session.flush()
    return console_session, token


@dataclass(frozen=True)
class ResolvedSession:
    """What a valid session cookie resolves to."""

    session_id: uuid.UUID
    user: UserPublic
    organization: OrganizationPublic
    must_change_password: bool
    needs_touch: bool


_USER = "user_"
_ORGANIZATION = "organization_"


@cache
def _session_of_token() -> Select[Any]:
    """The session of a token hash with its person, their organization and whether their password must change: one
    statement of plain columns, built once (read on every console request)."""
    console_session, user = core_table(ConsoleSession), core_table(User)
    organization, password = core_table(Organization), core_table(Password)
    return (
        sa_select(
            console_session.c.id,
            console_session.c.revoked_at,
            console_session.c.expires_at,
            console_session.c.last_seen_at,
            password.c.must_change,
            *(column.label(_USER + column.key) for column in user.columns),
            *(column.label(_ORGANIZATION + column.key) for column in organization.columns),
        )
        .join_from(console_session, user, user.c.id == console_session.c.user_id)
        .join(organization, organization.c.id == user.c.organization_id)
        .outerjoin(password, password.c.user_id == user.c.id)
        .where(console_session.c.token_hash == bindparam("token_hash"))
    )


def _prefixed(row: RowMapping, prefix: str) -> dict[str, Any]:
    return {key[len(prefix) :]: value for key, value in row.items() if key.startswith(prefix)}


def resolve_session(
    connection: Connection, token: str, *, idle: timedelta, touch_interval: timedelta
) -> ResolvedSession | None:
    """The active person behind a session token, or None (unknown, revoked, idle too long, past its end, or the
    user deactivated). Reads only: the last-seen time is written behind the request (``touch_sessions``)."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    row = connection.execute(_session_of_token(), {"token_hash": hash_token(token)}).mappings().first()
    if row is None:
        return None
    if (
        row["revoked_at"] is not None
        or row["expires_at"] <= now
        or row["last_seen_at"] <= now - idle
        or not row[_USER + "is_active"]
    ):
        return None
    return ResolvedSession(
        session_id=row["id"],
        user=UserPublic.model_validate(_prefixed(row, _USER)),
        organization=OrganizationPublic.model_validate(_prefixed(row, _ORGANIZATION)),
        must_change_password=row["must_change"] is None or row["must_change"],
        needs_touch=row["last_seen_at"] < now - touch_interval,
    )


def revoke(session: Session, token: str) -> ConsoleSession | None:
    """End the session of ``token`` (logout); None when there was none to end."""
    console_session = session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token))).first()
    if console_session is None or console_session.revoked_at is not None:
        return None
    console_session.revoked_at = utcnow()
    session.flush()
    return console_session


def revoke_one(session: Session, user_id: uuid.UUID, session_id: uuid.UUID) -> ConsoleSession | None:
    """End the open session ``session_id`` of ``user_id`` (an admin's revocation); None when the user has no such
    session open."""
    console_session = session.get(ConsoleSession, session_id)
    if console_session is None or console_session.user_id != user_id or console_session.revoked_at is not None:
        return None
    console_session.revoked_at = utcnow()
    session.flush()
    return console_session


def revoke_all(session: Session, user_id: uuid.UUID) -> int:
    """End every open session of a user (log out everywhere; deactivation); returns how many were open."""
    table = core_table(ConsoleSession)
    result = session.connection().execute(
        update(table).where(table.c.user_id == user_id, table.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)


def list_sessions(session: Session, user_id: uuid.UUID) -> list[ConsoleSession]:
    """A user's sessions still open, newest first."""
    now = utcnow()
    return list(
        session.exec(
            select(ConsoleSession)
            .where(ConsoleSession.user_id == user_id, col(ConsoleSession.revoked_at).is_(None))
            .where(ConsoleSession.expires_at > now)
            .order_by(col(ConsoleSession.id).desc())
        )
    )


def touch_sessions(session: Session, used: Mapping[uuid.UUID, datetime], *, touch_interval: timedelta) -> None:
    """Record when sessions were last used (session id → when), like ``auth.service.touch_keys`` for keys: the
    idle timeout counts from here, to within ``touch_interval``."""
    if not used:
        return
    table = core_table(ConsoleSession)
    statement = (
        update(table)
        .where(table.c.id == bindparam("session_id"))
        .where(or_(table.c.last_seen_at < bindparam("stale_before")))
        .values(last_seen_at=bindparam("used_at"))
    )
    session.connection().execute(
        statement,
        [
            {"session_id": session_id, "used_at": used_at, "stale_before": used_at - touch_interval}
            for session_id, used_at in sorted(used.items())
        ],
    )


@event.listens_for(OrmSession, "before_flush")
def _revoke_sessions_of_deactivated_users(session: OrmSession, _context: Any, _instances: Any) -> None:
    """A user deactivated (by the API, the console or a command) loses every session in the same transaction."""
    for row in session.dirty:
        if isinstance(row, User) and not row.is_active:
            history = sa_inspect(row).attrs.is_active.history
            if history.has_changes():
                table = core_table(ConsoleSession)
                session.connection().execute(
                    update(table)
                    .where(table.c.user_id == row.id, table.c.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                )
