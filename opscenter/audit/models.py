import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel

from opscenter.clock import utcnow
from opscenter.db import Identified, instant_field

GENESIS_HASH = "0" * 64


class AuditEventBase(SQLModel):
    seq: int = Field(sa_type=BigInteger, unique=True, description="Position in the chain, from 1, no gaps")
    occurred_at: datetime = instant_field(default_factory=utcnow, index=True)
    actor_user_id: uuid.UUID | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=100)
    actor_organization_id: uuid.UUID | None = Field(default=None)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=64, index=True, description="e.g. api_key.revoke")
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, description="field → [before, after]")
    request_id: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditEvent(AuditEventBase, Identified, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)


class AuditEventPublic(AuditEventBase):
    id: uuid.UUID


class AuditChainHead(SQLModel, table=True):
    """The last link of the chain: appenders lock this row, and verify checks the tail against it."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    hash: str = Field(default=GENESIS_HASH, max_length=64)
