"""The audit trail's tables: events (a queue of them waiting), their seals, and the chain's head.

A request's transaction inserts its ``AuditEvent`` and an ``AuditQueueEntry`` naming it, and takes no
lock shared with other requests. The sequencer (``opscenter.audit.sequencer``) later gives each
committed event an ``AuditSeal``: its place ``seq`` in the hash chain, its predecessor's hash and its
own. Events and seals are insert-only (on PostgreSQL by trigger); a queue entry leaves only once its
event is sealed. ``AuditChainHead`` is the last seal, locked by the sequencer alone.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, Relationship, SQLModel

from opscenter.db import Identified, instant_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.timekeeping import utcnow

GENESIS_HASH = "0" * 64


class AuditEventBase(SQLModel):
    occurred_at: datetime = instant_field(default_factory=utcnow, index=True)
    actor_user_id: uuid.UUID | None = Field(default=None)
    actor_name: str = Field(max_length=100)
    actor_organization_id: uuid.UUID | None = Field(default=None)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=64, description="e.g. api_key.revoke")
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, description="field → [before, after]")
    request_id: str = Field(max_length=64)
    # Who asked, and with what (issue 24): the client's address (through trusted proxies only) and the credential
    # that acted, by kind and id, never the secret. Null for the system (a job, a command) and for events written
    # before migration 0020.
    client_address: str | None = Field(default=None, max_length=64, description="The client's IP address")
    credential_kind: str | None = Field(
        default=None, max_length=16, description="`api_key` or `session` (the console); null for the system"
    )
    credential_id: str | None = Field(default=None, max_length=64, description="The API key's or session's id")


class AuditSeal(SQLModel, table=True):
    """An event's link in the hash chain, written once by the sequencer."""

    __tablename__ = "audit_seal"

    event_id: uuid.UUID = Field(primary_key=True, foreign_key="audit_event.id")
    seq: int = Field(sa_type=BigInteger, unique=True, description="Position in the chain, from 1, no gaps")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # Which hash recipe made ``hash`` (opscenter/audit/chain.py): 1 before migration 0020, 2 since (it also covers
    # the client address and the credential).
    recipe: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AuditEvent(AuditEventBase, Identified, table=True):
    """What happened. Its id is a UUIDv7, so ordering by id orders events by when they were written."""

    __tablename__ = "audit_event"
    # Each filter of the audit list, then the id it pages by (newest first): a page is one index range.
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id", "id"),
        Index("ix_audit_event_action", "action", "id"),
        Index("ix_audit_event_actor", "actor_user_id", "id"),
    )

    # Loaded with the event (one LEFT JOIN), so a page of events costs one query, sealed or not.
    seal: AuditSeal | None = Relationship(sa_relationship_kwargs={"lazy": "joined", "viewonly": True, "uselist": False})

    @property
    def seq(self) -> int | None:
        return self.seal.seq if self.seal is not None else None

    @property
    def prev_hash(self) -> str | None:
        return self.seal.prev_hash if self.seal is not None else None

    @property
    def hash(self) -> str | None:
        return self.seal.hash if self.seal is not None else None

    @property
    def recipe(self) -> int | None:
        return self.seal.recipe if self.seal is not None else None


class AuditQueueEntry(SQLModel, table=True):
    """An event committed but not sealed yet: the sequencer's work list, small whatever the trail's size."""

    __tablename__ = "audit_queue"

    event_id: uuid.UUID = Field(primary_key=True, foreign_key="audit_event.id")


class AuditEventPublic(AuditEventBase):
    id: uuid.UUID
    actor_organization_name: str | None = name_of("actor_organization_id", ORGANIZATIONS)
    seq: int | None = Field(description="Position in the sealed chain, from 1, no gaps; null until sealed")
    prev_hash: str | None = Field(description="The previous sealed event's hash; null until sealed")
    hash: str | None = Field(description="SHA-256 over this event and prev_hash; null until sealed")
    recipe: int | None = Field(
        description="The hash recipe (1 or 2, see the audit trail's documentation); null until sealed"
    )


class AuditChainHead(SQLModel, table=True):
    """The last seal: the sequencer locks this row, and verify checks the chain's tail against it."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    hash: str = Field(default=GENESIS_HASH, max_length=64)


class AuditCheckpoint(Identified, table=True):
    """The chain's head as the sequencer saw it, signed with an Ed25519 key kept outside the database
    (opscenter/audit/checkpoints.py): a copy held elsewhere shows any rewrite of the chain up to ``seq``."""

    __tablename__ = "audit_checkpoint"

    seq: int = Field(sa_type=BigInteger, index=True, description="The last sealed event it covers")
    hash: str = Field(max_length=64, description="That event's hash: the chain's head")
    signed_at: datetime = instant_field()
    key_id: str = Field(max_length=64, description="SHA-256 of the raw public key, hex: which key signed")
    signature: str = Field(max_length=128, description="Ed25519 signature, base64, over the checkpoint's message")


class AuditCheckpointPublic(SQLModel):
    id: uuid.UUID
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature: str
