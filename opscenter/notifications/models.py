import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, enum_field, instant_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import LabeledEnum, label_of
from opscenter.timekeeping import utcnow


class NotificationKind(LabeledEnum):
    """What happened. Values are at most 32 characters (the column's length)."""

    CONTRACT_EXPIRY = "contract_expiry", "合同到期提醒"
    STATEMENT_RESTATED = "statement_restated", "结算单已重算"
    TICKET_OPENED = "ticket_opened", "紧急工单已提交"
    TICKET_ACKNOWLEDGED = "ticket_acknowledged", "工单已响应"
    TICKET_PENDING_CUSTOMER = "ticket_pending_customer", "工单待您补充信息"
    TICKET_RESOLVED = "ticket_resolved", "工单已解决"
    TICKET_BREACHED = "ticket_breached", "工单超时违约"
    TICKET_ESCALATED = "ticket_escalated", "工单时限已过 75%，已升级"
    PURCHASE_SUBMITTED = "purchase_submitted", "采购申请待审批"
    PURCHASE_APPROVED = "purchase_approved", "采购申请已批准"
    PURCHASE_REJECTED = "purchase_rejected", "采购申请被驳回"
    PURCHASE_RETURNED = "purchase_returned", "采购申请被退回修改"
    CONTRACT_AWAITING_APPROVAL = "contract_awaiting_approval", "合同待复核审批"
    AMENDMENT_AWAITING_APPROVAL = "amendment_awaiting_approval", "合同变更待复核审批"
    MAINTENANCE_PROPOSED = "maintenance_proposed", "维护窗口待审批"
    MAINTENANCE_APPROVED = "maintenance_approved", "维护窗口已批准"
    MAINTENANCE_REJECTED = "maintenance_rejected", "维护窗口被驳回"
    HANDOVER_SUBMITTED = "handover_submitted", "接管批次待验收"
    HANDOVER_INSPECTED = "handover_inspected", "接管批次已验收"
    HANDOVER_AWAITING_SIGNATURE = "handover_awaiting_signature", "接管批次待签字"
    HANDOVER_COMPLETED = "handover_completed", "接管已完成"
    STATEMENT_ISSUED = "statement_issued", "结算单已出具"
    STATEMENT_DISPUTED = "statement_disputed", "结算单有异议"
    DISPUTE_RESOLVED = "dispute_resolved", "结算异议已处理"
    STATEMENT_APPROVED = "statement_approved", "结算单已审批"
    STATEMENT_PAID = "statement_paid", "结算单已付款"
    RATING_PERIOD_CLOSING = "rating_period_closing", "评价期即将结束"
    SLA_PULL_FAILING = "sla_pull_failing", "SLA 数据采集失败"
    CALENDAR_UNKNOWN = "calendar_unknown", "明年工作日历未录入"
    WEBHOOK_TEST = "webhook_test", "Webhook 测试"


class Party(StrEnum):
    """Who an event concerns: the bureau, the operations center, or the departments the object belongs to."""

    BUREAU = "bureau"
    OPERATOR = "operator"
    DEPARTMENT = "department"
    ADMIN = "admin"


# Who hears of each kind. A department hears only of events naming it (``NotificationEvent.department_ids``).
AUDIENCE: dict[NotificationKind, frozenset[Party]] = {
    NotificationKind.CONTRACT_EXPIRY: frozenset({Party.BUREAU, Party.DEPARTMENT}),
    NotificationKind.TICKET_OPENED: frozenset({Party.OPERATOR}),
    NotificationKind.TICKET_ACKNOWLEDGED: frozenset({Party.DEPARTMENT}),
    NotificationKind.TICKET_PENDING_CUSTOMER: frozenset({Party.DEPARTMENT}),
    NotificationKind.TICKET_RESOLVED: frozenset({Party.DEPARTMENT}),
    NotificationKind.TICKET_BREACHED: frozenset({Party.OPERATOR, Party.BUREAU, Party.DEPARTMENT}),
    NotificationKind.TICKET_ESCALATED: frozenset({Party.OPERATOR}),
    NotificationKind.PURCHASE_SUBMITTED: frozenset({Party.BUREAU}),
    NotificationKind.PURCHASE_APPROVED: frozenset({Party.DEPARTMENT}),
    NotificationKind.PURCHASE_REJECTED: frozenset({Party.DEPARTMENT}),
    NotificationKind.PURCHASE_RETURNED: frozenset({Party.DEPARTMENT}),
    NotificationKind.CONTRACT_AWAITING_APPROVAL: frozenset({Party.BUREAU}),
    NotificationKind.AMENDMENT_AWAITING_APPROVAL: frozenset({Party.BUREAU}),
    NotificationKind.MAINTENANCE_PROPOSED: frozenset({Party.BUREAU}),
    NotificationKind.MAINTENANCE_APPROVED: frozenset({Party.OPERATOR, Party.DEPARTMENT}),
    NotificationKind.MAINTENANCE_REJECTED: frozenset({Party.OPERATOR}),
    NotificationKind.HANDOVER_SUBMITTED: frozenset({Party.OPERATOR}),
    NotificationKind.HANDOVER_INSPECTED: frozenset({Party.DEPARTMENT}),
    NotificationKind.HANDOVER_AWAITING_SIGNATURE: frozenset({Party.DEPARTMENT, Party.OPERATOR, Party.BUREAU}),
    NotificationKind.HANDOVER_COMPLETED: frozenset({Party.DEPARTMENT, Party.OPERATOR, Party.BUREAU}),
    NotificationKind.STATEMENT_ISSUED: frozenset({Party.BUREAU, Party.DEPARTMENT}),
    NotificationKind.STATEMENT_DISPUTED: frozenset({Party.OPERATOR, Party.BUREAU}),
    NotificationKind.DISPUTE_RESOLVED: frozenset({Party.OPERATOR, Party.DEPARTMENT}),
    NotificationKind.STATEMENT_APPROVED: frozenset({Party.OPERATOR, Party.DEPARTMENT}),
    NotificationKind.STATEMENT_PAID: frozenset({Party.OPERATOR}),
    NotificationKind.RATING_PERIOD_CLOSING: frozenset({Party.DEPARTMENT}),
    NotificationKind.SLA_PULL_FAILING: frozenset({Party.OPERATOR, Party.ADMIN}),
    NotificationKind.CALENDAR_UNKNOWN: frozenset({Party.ADMIN}),
    NotificationKind.STATEMENT_RESTATED: frozenset({Party.DEPARTMENT}),
    NotificationKind.WEBHOOK_TEST: frozenset(),  # addressed to one subscription, by its test action
}


class NotificationEvent(Identified, table=True):
    """The outbox: one row per thing that happened, written in the transaction of the change that caused it, so
    a change that rolls back leaves none and one that commits cannot lose it. The worker fans each out to its
    recipients (``fanned_out_at``) and to their channels."""

    __tablename__ = "notification_event"
    __table_args__ = (Index("ix_notification_event_pending", "fanned_out_at", "id"),)

    kind: NotificationKind = enum_field(NotificationKind)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    # The departments the object belongs to: the only departments that hear of it.
    department_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What a receiver may see of the object: identifiers and labels only, never another party's figures.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor_name: str = Field(max_length=200)
    # Jobs that find the same thing on every run write it once (a year's missing calendar, a failed pull's day).
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = instant_field(default_factory=utcnow)
    fanned_out_at: datetime | None = instant_field(nullable=True, default=None)


class NotificationBase(SQLModel):
    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    kind: NotificationKind = enum_field(NotificationKind)
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    created_at: datetime = instant_field(default_factory=utcnow)
    # None: addressed to the whole organization (the expiry reminders); else to one person.
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    read_at: datetime | None = instant_field(nullable=True, default=None)


class Notification(NotificationBase, Identified, table=True):
    # The same reminder reaches an organization once, however often the job that sends it runs; an event reaches
    # each person once (its key names the event and the person), however often the worker fans it out.
    __table_args__ = (
        UniqueConstraint("organization_id", "dedupe_key"),
        Index("ix_notification_organization_id_id", "organization_id", "id"),  # an organization's, newest first
        Index("ix_notification_user_id_id", "user_id", "id"),  # a person's, newest first
    )

    dedupe_key: str = Field(max_length=200)
    event_id: uuid.UUID | None = Field(default=None, foreign_key="notification_event.id")


class NotificationPublic(NotificationBase):
    id: uuid.UUID
    event_id: uuid.UUID | None
    organization_name: str | None = name_of("organization_id", ORGANIZATIONS)
    kind_label: ClassVar[str] = label_of("kind")
