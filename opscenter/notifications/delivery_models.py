"""Where notifications go beyond the API: each organization's and person's choices, departments' webhook
subscriptions, and one delivery per (event, channel, receiver) with a log row per attempt."""

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import AnyUrl
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.notifications.models import NotificationKind
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of
from opscenter.timekeeping import utcnow


class Channel(LabeledEnum):
    EMAIL = "email", "电子邮件"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"
    WEBHOOK = "webhook", "Webhook 订阅"


class DeliveryStatus(LabeledEnum):
    PENDING = "pending", "待发送"
    DELIVERED = "delivered", "已送达"
    DEAD = "dead", "投递失败（已放弃）"
    DROPPED = "dropped", "未发送（订阅已停用）"


class NotificationPreference(Identified, Timestamped, Versioned, table=True):
    """An organization's choices (``user_id`` None: its channels, its group robots) or one person's (their
    email address, and the kinds they mute). ``scope`` is ``<organization>`` or ``<organization>:<user>``."""

    __tablename__ = "notification_preference"

    scope: str = Field(max_length=80, unique=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    muted_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    email: str = Field(default="", max_length=254)
    wecom_url: str = Field(default="", max_length=500)
    dingtalk_url: str = Field(default="", max_length=500)
    dingtalk_secret_encrypted: str = Field(default="", max_length=500)

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"dingtalk_secret_encrypted"})


class PreferenceIn(StrictInput):
    channels: list[Channel] = Field(default_factory=list, description="Channels beside the API and the console")
    muted_kinds: list[NotificationKind] = Field(default_factory=list, description="Kinds not to hear of at all")
    email: str = Field(default="", max_length=254, regex=r"^$|^[^@\s]+@[^@\s]+$", description="A person's")
    wecom_url: AnyUrl | None = Field(default=None, description="企业微信 group robot webhook (organization)")
    dingtalk_url: AnyUrl | None = Field(default=None, description="钉钉 group robot webhook (organization)")
    dingtalk_secret: str | None = Field(default=None, max_length=200, description="钉钉 加签 secret; kept encrypted")


class PreferencePublic(SQLModel):
    id: uuid.UUID
    version: int
    organization_id: uuid.UUID
    user_id: uuid.UUID | None
    channels: list[Channel]
    muted_kinds: list[NotificationKind]
    email: str
    wecom_url: str
    dingtalk_url: str
    dingtalk_signed: bool


class WebhookSubscription(Identified, Timestamped, Versioned, table=True):
    """A department's (or any organization's) system hearing of events it may see, signed with its secret."""

    __tablename__ = "webhook_subscription"
    __table_args__ = (Index("ix_webhook_subscription_organization_id_id", "organization_id", "id"),)
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"secret_encrypted"})

    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    # Empty: every kind the organization hears of.
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_encrypted: str = Field(max_length=500)
    active: bool = True
    disabled_reason: str = Field(default="", max_length=200)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class SubscriptionIn(StrictInput):
    url: str = Field(min_length=1, max_length=500, description="https://… of the receiving system")
    description: str = Field(default="", max_length=200)
    kinds: list[NotificationKind] = Field(default_factory=list, description="Event filter; empty: all")


class SubscriptionPublic(PublicRecord):
    organization_id: uuid.UUID
    url: str
    description: str
    kinds: list[NotificationKind]
    active: bool
    disabled_reason: str


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="whsec_…: shown this once; rotate to get a new one")


class NotificationDelivery(Identified, table=True):
    """One event to one receiver over one channel, tried until delivered or dead."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        Index("ix_notification_delivery_due", "status", "next_attempt_at"),
        Index("ix_notification_delivery_event_id", "event_id"),
    )

    event_id: uuid.UUID = Field(foreign_key="notification_event.id")
    channel: Channel = enum_field(Channel)
    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    subscription_id: uuid.UUID | None = Field(default=None, foreign_key="webhook_subscription.id")
    address: str = Field(default="", max_length=254, description="The email address, for email")
    status: DeliveryStatus = enum_field(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts: int = 0
    next_attempt_at: datetime = instant_field(default_factory=utcnow)
    # A worker that claimed it holds it until then; one that died lets it go to another worker after.
    claimed_until: datetime | None = instant_field(nullable=True, default=None)
    delivered_at: datetime | None = instant_field(nullable=True, default=None)
    last_error: str = Field(default="", max_length=500)


class DeliveryAttempt(Identified, table=True):
    """The delivery log: one row per attempt. (delivery, number) is unique, so no attempt is made twice."""

    __tablename__ = "notification_attempt"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    delivery_id: uuid.UUID = Field(foreign_key="notification_delivery.id")
    number: int = Field(ge=1)
    worker: str = Field(max_length=100)
    started_at: datetime = instant_field()
    duration_ms: int = 0
    status_code: int | None = None
    outcome: str = Field(max_length=16, description="delivered, retry, dead or gone")
    error: str = Field(default="", max_length=500)


class AttemptPublic(SQLModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    outcome: str
    error: str


class DeliveryPublic(SQLModel):
    id: uuid.UUID
    event_id: uuid.UUID
    channel: Channel
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str
    attempt_log: list[AttemptPublic]
    status_label: ClassVar[str] = label_of("status")
