"""API keys: issued once, stored only as a hash, revocable, optionally expiring."""

import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.auth.models import ApiKey, ApiKeyCreate
from opscenter.db import core_table
from opscenter.errors import InvalidInput, referenced
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, User
from opscenter.organizations import service as organizations
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.timekeeping import utcnow

KEY_PREFIX = "opc_"
_KEY_SHAPE = re.compile(r"^opc_[A-Za-z0-9_-]{43}$")
_DISPLAY_CHARS = 12  # "opc_" and 8 characters: enough to tell keys apart, useless to guess one


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: no one can brute-force the preimage.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, data: ApiKeyCreate, *, actor: Actor) -> tuple[ApiKey, str]:
    """Issue a key for a user. Returns the stored key and the plaintext, which is never stored."""
    with referenced("user_id"):
        user = organizations.get_user(session, data.user_id, actor=actor)
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise InvalidInput("expires_at", "must be in the future")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=data.name,
        expires_at=data.expires_at,
        user_id=user.id,
        prefix=plaintext[:_DISPLAY_CHARS],
        key_hash=hash_key(plaintext),
    )
    session.add(api_key)
    audit.record_create(session, actor=actor, action="api_key.create", row=api_key)
    session.flush()
    return api_key, plaintext


def _scoped(query: SelectOfScalar[ApiKey], actor: Actor) -> SelectOfScalar[ApiKey]:
    """Those who see everything (the admin, auditors) see every key; anyone else only their own."""
    return query if actor.sees_all else query.where(ApiKey.user_id == actor.user_id)


def get_api_key(session: Session, key_id: uuid.UUID, *, actor: Actor) -> ApiKey:
    return get_visible(session, ApiKey, key_id, actor=actor, scope=_scoped, noun="api key")


def list_api_keys(
    session: Session, *, actor: Actor, page: PageRequest, user_id: uuid.UUID | None = None
) -> Slice[ApiKey]:
    query = _scoped(select(ApiKey).order_by(col(ApiKey.id)), actor)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return keyset(session, query, page)


def revoke_api_key(session: Session, key_id: uuid.UUID, *, actor: Actor, expected_version: int) -> ApiKey:
    api_key = get_api_key(session, key_id, actor=actor)
    api_key.require_version(expected_version)
    if api_key.revoked_at is not None:
        return api_key  # revoking twice changes nothing and writes nothing
    with audit.change(session, actor=actor, action="api_key.revoke", row=api_key):
        api_key.revoked_at = utcnow()
    session.flush()
    return api_key


@dataclass(frozen=True)
class ResolvedKey:
    """What a valid key resolves to."""

    api_key_id: uuid.UUID
    expires_at: datetime | None
    user: User
    organization: Organization
    needs_touch: bool


def resolve_key(session: Session, presented: str, *, touch_interval: timedelta) -> ResolvedKey | None:
    """The active user behind a presented key, or None for malformed, unknown, revoked or expired keys."""
    if not _KEY_SHAPE.match(presented):
        return None
    now = utcnow()
    row = session.exec(
        select(ApiKey, User, Organization)
        .join(User, col(User.id) == ApiKey.user_id)
        .join(Organization, col(Organization.id) == User.organization_id)
        .where(ApiKey.key_hash == hash_key(presented))
    ).first()
    if row is None:
        return None
    api_key, user, organization = row
    if not api_key.is_usable or not user.is_active:
        return None
    stale = api_key.last_used_at is None or api_key.last_used_at < now - touch_interval
    return ResolvedKey(api_key.id, api_key.expires_at, user, organization, needs_touch=stale)


def touch_keys(session: Session, used: Mapping[uuid.UUID, datetime], *, touch_interval: timedelta) -> None:
    """Record when keys were used (key id → when), each unless recorded less than ``touch_interval`` before. Plain
    UPDATEs in one executemany: bookkeeping, not a state change, so no version bump and no audit event."""
    if not used:
        return
    table = core_table(ApiKey)
    statement = (
        update(table)
        .where(table.c.id == bindparam("key_id"))
        .where(or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("stale_before")))
        # updated_at keeps its value: using a key is not modifying it.
        .values(last_used_at=bindparam("used_at"), updated_at=table.c.updated_at)
    )
    session.connection().execute(
        statement,
        [
            {"key_id": key_id, "used_at": used_at, "stale_before": used_at - touch_interval}
            for key_id, used_at in sorted(used.items())  # in key order: two writers never wait crosswise
        ],
    )
