import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, Sequence, Text
from sqlmodel import Field, SQLModel

from contracts.names import CONTRACTS, INSTANCES
from contracts.terms import Clock, Priority
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of, schema_config

MAX_LINKED_ASSETS = 20

# PostgreSQL numbers tickets from a sequence (no lock shared by concurrent openers); SQLite, whose writers
# are serialized already, takes the highest number plus one. Created by the migration on PostgreSQL only.
TICKET_SERIAL = Sequence("ticket_serial", metadata=SQLModel.metadata)


class TicketKind(LabeledEnum):
    INCIDENT = "incident", "故障"
    SERVICE_REQUEST = "service_request", "服务请求"
    CHANGE = "change", "变更"
    COMPLAINT = "complaint", "投诉"


class TicketStatus(LabeledEnum):
    """``new → acknowledged → in_progress ⇄ pending_customer → resolved → closed``; reopen: resolved → in_progress."""

    NEW = "new", "新建"
    ACKNOWLEDGED = "acknowledged", "已受理"
    IN_PROGRESS = "in_progress", "处理中"
    PENDING_CUSTOMER = "pending_customer", "待部门反馈"
    RESOLVED = "resolved", "已解决"
    CLOSED = "closed", "已关闭"


# The resolution clock runs in these states; it stands still while waiting for the department and once resolved.
CLOCK_RUNNING = (TicketStatus.NEW, TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS)
CLOCK_PAUSED = (TicketStatus.PENDING_CUSTOMER, TicketStatus.RESOLVED)
OPEN = (*CLOCK_RUNNING, *CLOCK_PAUSED)


class BreachKind(LabeledEnum):
    RESPONSE = "response", "响应超时"
    RESOLUTION = "resolution", "解决超时"


@dataclass(frozen=True)
class ResolutionBreach:
    """A ticket whose resolution due time passed unmet: billing charges the line's penalty for it."""

    ticket_id: uuid.UUID
    number: str
    priority: Priority
    resolution_due_at: datetime


# ---- tickets -----------------------------------------------------------------------------------------------------


class TicketBase(SQLModel):
    kind: TicketKind = enum_field(TicketKind, description="incident, service_request, change or complaint")
    priority: Priority = enum_field(Priority, description="P1 (紧急) … P4 (低): sets the SLA targets")
    title: str = Field(min_length=1, max_length=200, description="e.g. 电子健康档案系统无法登录")
    description: str = Field(default="", max_length=10_000, sa_type=Text)


class Ticket(TicketBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # Keyset pages: newest first or most urgent first, for everyone, by department, by status.
        Index("ix_ticket_department_id_id", "department_id", "id"),
        Index("ix_ticket_department_id_resolution_due_at_id", "department_id", "resolution_due_at", "id"),
        Index("ix_ticket_status_id", "status", "id"),
        Index("ix_ticket_resolution_due_at_id", "resolution_due_at", "id"),
        Index("ix_ticket_priority_id", "priority", "id"),  # sort=priority
        # The sweep: each of its statements is a range over the unmarked rows only (mark IS NULL, state, due <
        # now), whatever the number of open or long-marked tickets. The resolution one also gives billing a
        # month's breaches (a range on its leading column).
        Index("ix_ticket_response_breached_at_status_due", "response_breached_at", "status", "response_due_at"),
        Index("ix_ticket_resolution_breached_at_status_due", "resolution_breached_at", "status", "resolution_due_at"),
        Index("ix_ticket_escalated_at_status_due", "escalated_at", "status", "escalation_due_at"),
        Index("ix_ticket_status_auto_close_at", "status", "auto_close_at"),
    )

    number: str = Field(max_length=20, unique=True, description="e.g. T-2026-000123")
    serial: int = Field(unique=True)
    service_instance_id: uuid.UUID = Field(foreign_key="service_instance.id", index=True)
    # Copied from the instance at creation: scoping, lists and billing's breach query need no join.
    department_id: uuid.UUID = Field(foreign_key="organization.id")
    contract_id: uuid.UUID = Field(foreign_key="contract.id")
    line_no: int = Field(ge=1)
    status: TicketStatus = enum_field(TicketStatus, default=TicketStatus.NEW)
    opened_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)

    # The SLA targets of its priority, from the contract's terms when it was opened (or last re-prioritized).
    clock: Clock = enum_field(Clock)
    response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)
    response_due_at: datetime = instant_field()
    resolution_due_at: datetime = instant_field()
    escalation_due_at: datetime = instant_field()
    # Time the resolution clock stood still (pending_customer, resolved), measured on the ticket's clock.
    paused_seconds: int = Field(default=0, ge=0)
    paused_since: datetime | None = instant_field(nullable=True, default=None)

    responded_at: datetime | None = instant_field(nullable=True, default=None)
    resolved_at: datetime | None = instant_field(nullable=True, default=None)
    closed_at: datetime | None = instant_field(nullable=True, default=None)
    auto_close_at: datetime | None = instant_field(nullable=True, default=None)
    # Breach time = the due time that passed; each set once, by the sweep or by a transition.
    response_breached_at: datetime | None = instant_field(nullable=True, default=None)
    resolution_breached_at: datetime | None = instant_field(nullable=True, default=None)
    escalated_at: datetime | None = instant_field(nullable=True, default=None)

    pending_question: str = Field(default="", max_length=2000)
    resolution_note: str = Field(default="", max_length=4000)
    reopen_count: int = Field(default=0, ge=0)
    reopen_reason: str = Field(default="", max_length=2000, description="Why the department last reopened it")
    satisfaction_score: int | None = Field(default=None, ge=1, le=5)
    satisfaction_comment: str = Field(default="", max_length=2000)
    satisfaction_at: datetime | None = instant_field(nullable=True, default=None)


class TicketAsset(SQLModel, table=True):
    """An asset a ticket is about (a server, a database)."""

    __tablename__ = "ticket_asset"

    ticket_id: uuid.UUID = Field(foreign_key="ticket.id", primary_key=True)
    asset_id: uuid.UUID = Field(foreign_key="asset.id", primary_key=True, index=True)


_TICKET_EXAMPLE: dict[str, Any] = {
    "kind": "incident",
    "priority": "P2",
    "title": "电子健康档案系统无法登录",
    "description": "自09:40起，医生工作站登录电子健康档案系统返回502。",
    "service_instance_id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b",
    "asset_ids": [],
}


class TicketCreate(TicketBase, StrictInput):
    """A new ticket on a service instance: a department's own, or any for the operations center."""

    model_config = schema_config(extra="forbid", example=_TICKET_EXAMPLE)

    service_instance_id: uuid.UUID
    asset_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=MAX_LINKED_ASSETS, description="Assets the ticket is about"
    )


class TicketPublic(TicketBase, PublicRecord):
    model_config = schema_config(
        example={
            "id": "01937c01-2a3b-7c4d-8e5f-6a7b8c9d0e1f",
            "number": "T-2026-000123",
            **_TICKET_EXAMPLE,
            "department_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
            "contract_id": "01936f0d-1e2f-7a3b-8c4d-5e6f7a8b9c0d",
            "line_no": 1,
            "status": "in_progress",
            "status_label": "处理中",
            "kind_label": "故障",
            "priority_label": "高",
            "clock": "24x7",
            "clock_label": "7×24小时",
            "response_minutes": 30,
            "resolution_minutes": 480,
            "response_due_at": "2026-10-12T02:10:00Z",
            "resolution_due_at": "2026-10-12T09:40:00Z",
            "escalation_due_at": "2026-10-12T07:40:00Z",
            "paused_seconds": 0,
            "response_breached_at": None,
            "resolution_breached_at": None,
            "escalated_at": None,
            "version": 3,
            "created_at": "2026-10-12T01:40:00Z",
            "updated_at": "2026-10-12T01:55:00Z",
        }
    )

    number: str
    service_instance_id: uuid.UUID
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    service_name: str | None = name_of("service_instance_id", INSTANCES, "service")
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    line_no: int
    status: TicketStatus
    opened_by_id: uuid.UUID | None
    opened_by_name: str | None = name_of("opened_by_id", USERS)
    assignee_id: uuid.UUID | None
    assignee_name: str | None = name_of("assignee_id", USERS)
    clock: Clock
    response_minutes: int
    resolution_minutes: int
    response_due_at: datetime
    resolution_due_at: datetime = Field(description="Moves later by the time spent waiting for the department")
    escalation_due_at: datetime = Field(description="75 % of the resolution time")
    paused_seconds: int
    paused_since: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    auto_close_at: datetime | None = Field(
        description="Closes itself then, five working days after resolve (while the calendar lacks those days, "
        "the earliest it could be)"
    )
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalated_at: datetime | None
    pending_question: str
    resolution_note: str
    reopen_count: int
    reopen_reason: str
    satisfaction_score: int | None
    satisfaction_comment: str
    satisfaction_at: datetime | None
    asset_ids: list[uuid.UUID] = Field(default_factory=list)
    status_label: ClassVar[str] = label_of("status")
    kind_label: ClassVar[str] = label_of("kind")
    priority_label: ClassVar[str] = label_of("priority")
    clock_label: ClassVar[str] = label_of("clock")


# ---- the actions' bodies -----------------------------------------------------------------------------------------


class Question(StrictInput):
    """What the operations center needs from the department before it can go on."""

    question: str = Field(min_length=1, max_length=2000)


class TicketResolution(StrictInput):
    note: str = Field(min_length=1, max_length=4000, description="What was done")


class ReopenReason(StrictInput):
    reason: str = Field(min_length=1, max_length=2000)


class Assignment(StrictInput):
    assignee_id: uuid.UUID | None = Field(description="A user of the operations center; null unassigns")


class Reprioritization(StrictInput):
    priority: Priority = Field(description="The due times are computed again from creation")


class SatisfactionIn(StrictInput):
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) … 5 (very satisfied)")
    comment: str = Field(default="", max_length=2000)


# ---- comments and internal notes ---------------------------------------------------------------------------------


class TicketComment(Identified, table=True):
    __tablename__ = "ticket_comment"
    __table_args__ = (Index("ix_ticket_comment_ticket_id_id", "ticket_id", "id"),)

    ticket_id: uuid.UUID = Field(foreign_key="ticket.id")
    author_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    internal: bool = Field(default=False, description="An internal note: the operations center's eyes only")
    body: str = Field(min_length=1, max_length=10_000, sa_type=Text)
    created_at: datetime = instant_field()


class CommentIn(StrictInput):
    model_config = schema_config(extra="forbid", example={"body": "已联系机房值班人员排查负载均衡。", "internal": True})

    body: str = Field(min_length=1, max_length=10_000)
    internal: bool = Field(default=False, description="An internal note (operations center only)")


class CommentPublic(SQLModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author_id: uuid.UUID | None
    internal: bool
    body: str
    created_at: datetime
