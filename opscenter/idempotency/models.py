import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field

from opscenter.db import Identified, instant_field
from opscenter.timekeeping import utcnow


class IdempotencyRecord(Identified, table=True):
    """One Idempotency-Key of one organization, and the answer its first request got."""

    __tablename__ = "idempotency_key"
    # Decides who was first under a race: a second insert of the same key waits for the first to end.
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    key: str = Field(max_length=255)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    method: str = Field(max_length=10)
    path: str = Field(max_length=1000)
    fingerprint: str = Field(max_length=64, description="SHA-256 of the method, path, query and validated body")
    status_code: int | None = Field(default=None, description="None only inside the first request's transaction")
    media_type: str = Field(default="application/json", max_length=100)
    response_headers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    response_body: str = Field(default="", sa_type=Text)
    created_at: datetime = instant_field(default_factory=utcnow, index=True)
