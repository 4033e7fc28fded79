import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, enum_field, instant_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import LabeledEnum, label_of
from opscenter.timekeeping import utcnow


class NotificationKind(LabeledEnum):
    CONTRACT_EXPIRY = "contract_expiry", "合同到期提醒"


class NotificationBase(SQLModel):
    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    kind: NotificationKind = enum_field(NotificationKind)
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    created_at: datetime = instant_field(default_factory=utcnow)


class Notification(NotificationBase, Identified, table=True):
    # The same reminder reaches an organization once, however often the job that sends it runs.
    __table_args__ = (
        UniqueConstraint("organization_id", "dedupe_key"),
        Index("ix_notification_organization_id_id", "organization_id", "id"),  # an organization's, newest first
    )

    dedupe_key: str = Field(max_length=200)


class NotificationPublic(NotificationBase):
    id: uuid.UUID
    organization_name: str | None = name_of("organization_id", ORGANIZATIONS)
    kind_label: ClassVar[str] = label_of("kind")
