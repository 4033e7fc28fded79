"""What a presented API key resolves to, kept in memory for a few seconds so most requests touch no database.

The bound, on every process: a key's revocation or expiry, a user's deactivation or role change, and a
change of an organization take effect **at once on the process that committed the change** (any commit
that changed an ``ApiKey``, ``User`` or ``Organization`` row through the ORM empties this process's
cache) and **within ``api_key_cache_seconds`` (default 5) on every other process**, which keeps an
entry at most that long before reading the key again. A key past its ``expires_at`` is refused at
once everywhere: the entry carries the expiry. ``api_key_cache_seconds=0`` turns the cache off.

The cache holds at most ``MAX_ENTRIES`` keys (least recently used leave first) and is touched only from
the event loop's thread; commits in worker threads only bump a generation number.
"""

import itertools
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from opscenter.auth.models import ApiKey
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrganizationPublic, User, UserPublic
from opscenter.timekeeping import utcnow

MAX_ENTRIES = 10_000
_CHANGED = "opscenter_credentials_changed"
_IDENTITY_ROWS = (ApiKey, User, Organization)
_generations = itertools.count(1)
_generation = 0


def generation() -> int:
    """Moves on whenever a commit in this process changed a key, a user or an organization."""
    return _generation


@event.listens_for(Session, "after_flush")
def _note_identity_changes(session: Session, _context: Any) -> None:
    if any(isinstance(row, _IDENTITY_ROWS) for row in itertools.chain(session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_generation(session: Session) -> None:
    global _generation
    if session.info.pop(_CHANGED, False):
        _generation = next(_generations)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


@dataclass(frozen=True, slots=True)
class Credential:
    """An authenticated key: who it belongs to, as read from the database at ``read_at``."""

    api_key_id: uuid.UUID
    expires_at: datetime | None
    user: UserPublic
    organization: OrganizationPublic

    def actor(self, request_id: str, client_address: str | None = None) -> Actor:
        return Actor(
            user_id=self.user.id,
            user_name=self.user.name,
            organization_id=self.organization.id,
            org_kind=self.organization.kind,
            role=self.user.role,
            request_id=request_id,
            client_address=client_address,
            credential_kind="api_key",
            credential_id=str(self.api_key_id),
        )

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()


class CredentialCache:
    """key hash → (credential, when it was read, generation then); bounded, least recently used out first."""

    def __init__(self, ttl_seconds: float, *, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Credential, float, int]] = OrderedDict()

    def get(self, key_hash: str, *, now: float) -> Credential | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        credential, read_at, seen = entry
        if seen != _generation or now - read_at >= self.ttl or credential.expired:
            del self._entries[key_hash]
            return None
        self._entries.move_to_end(key_hash)
        return credential

    def put(self, key_hash: str, credential: Credential, *, read_at: float, seen: int) -> None:
        """Keep ``credential`` as read at ``read_at`` under generation ``seen``; a newer generation drops it."""
        if self.ttl <= 0 or seen != _generation:
            return
        self._entries[key_hash] = (credential, read_at, seen)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
