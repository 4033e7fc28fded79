import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import computed_field
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, Timestamped, Versioned, instant_field
from opscenter.names import USERS, name_of
from opscenter.schemas import OptionalInstant, PublicRecord, StrictInput
from opscenter.timekeeping import utcnow


class ApiKeyBase(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="What the key is for, e.g. 'ratings integration'")
    expires_at: datetime | None = instant_field(nullable=True, default=None)


class ApiKey(ApiKeyBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "api_key"
    __table_args__ = (Index("ix_api_key_user_id_id", "user_id", "id"),)  # a user's keys, keyset pages
    # The secret never reaches the audit log, not even hashed.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"key_hash"})

    user_id: uuid.UUID = Field(foreign_key="user.id")
    prefix: str = Field(max_length=16, description="Shown to people so they can tell keys apart")
    key_hash: str = Field(max_length=64, unique=True, description="SHA-256 of the whole key, hex")
    revoked_at: datetime | None = instant_field(nullable=True, default=None)
    last_used_at: datetime | None = instant_field(nullable=True, default=None)

    @property
    def is_usable(self) -> bool:
        now = utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiKeyCreate(ApiKeyBase, StrictInput):
    user_id: uuid.UUID
    expires_at: OptionalInstant = None


class ApiKeyPublic(ApiKeyBase, PublicRecord):
    user_id: uuid.UUID
    user_name: str | None = name_of("user_id", USERS)
    prefix: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"


class ApiKeyCreated(ApiKeyPublic):
    """The answer to a key's creation: the only time the whole key is ever shown."""

    key: str


class Password(Identified, Timestamped, Versioned, table=True):
    """A person's console password, as an argon2id hash; machines use API keys and have none."""

    __tablename__ = "user_password"
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    user_id: uuid.UUID = Field(foreign_key="user.id", unique=True)
    password_hash: str = Field(max_length=255)
    # Set by an admin (or the demo): the person chooses their own at the next login, before anything else.
    must_change: bool = True
    changed_at: datetime = instant_field(default_factory=utcnow)


class ConsoleSession(Identified, SQLModel, table=True):
    """A logged-in person's session: the cookie's token, stored only as its SHA-256, valid until it is revoked,
    idle past the idle timeout, or past its absolute end. In the database, so every API process knows it."""

    __tablename__ = "console_session"
    __table_args__ = (Index("ix_console_session_user_id_id", "user_id", "id"),)  # a person's sessions
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"token_hash"})

    user_id: uuid.UUID = Field(foreign_key="user.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant_field(default_factory=utcnow)
    last_seen_at: datetime = instant_field(default_factory=utcnow)
    expires_at: datetime = instant_field()
    revoked_at: datetime | None = instant_field(nullable=True, default=None)
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)


class LoginThrottle(Identified, SQLModel, table=True):
    """Failed logins counted per user name and per client address; past the limit, locked for a while."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("uq_login_throttle_scope_subject", "scope", "subject", unique=True),)

    scope: str = Field(max_length=16, description="'user' or 'address'")
    subject: str = Field(max_length=100)
    failures: int = 0
    first_failure_at: datetime = instant_field(default_factory=utcnow)
    locked_until: datetime | None = instant_field(nullable=True, default=None)
