import uuid
from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import model_validator
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from contracts.names import INSTANCES
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.names import USERS, name_of
from opscenter.schemas import INSTANT_RULE, Instant, LabeledEnum, PublicRecord, StrictInput, label_of, schema_config

MAX_INSTANCES = 500
MAX_DAYS = 7  # a window longer than a week is an outage to be credited, not maintenance


class MaintenanceStatus(LabeledEnum):
    PROPOSED = "proposed", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


class MaintenanceWindowBase(SQLModel):
    starts_at: datetime = instant_field(description="Start, inclusive (RFC 3339 with an offset)")
    ends_at: datetime = instant_field(description="End, exclusive")
    reason: str = Field(min_length=1, max_length=2000, description="e.g. 数据库主备切换演练")


class MaintenanceWindow(MaintenanceWindowBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "maintenance_window"
    __table_args__ = (Index("ix_maintenance_window_status_starts_at", "status", "starts_at"),)

    status: MaintenanceStatus = enum_field(MaintenanceStatus, default=MaintenanceStatus.PROPOSED)
    proposed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = instant_field(nullable=True, default=None)
    decision_note: str = Field(default="", max_length=2000)
    # Also in maintenance_window_instance (for scoping and the pull); kept here so the audit trail records them.
    instance_ids: list[str] = Field(default_factory=list, sa_type=JSON)

    @property
    def service_instance_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(text) for text in self.instance_ids]


class MaintenanceWindowInstance(SQLModel, table=True):
    """Which instances a window touches; the department is copied so that scoping needs no join."""

    __tablename__ = "maintenance_window_instance"
    __table_args__ = (
        Index("ix_maintenance_window_instance_department_id", "department_id", "maintenance_window_id"),
        Index("ix_maintenance_window_instance_instance", "service_instance_id", "maintenance_window_id"),
    )

    maintenance_window_id: uuid.UUID = Field(foreign_key="maintenance_window.id", primary_key=True)
    service_instance_id: uuid.UUID = Field(foreign_key="service_instance.id", primary_key=True)
    department_id: uuid.UUID = Field(foreign_key="organization.id")


_EXAMPLE: dict[str, Any] = {
    "service_instance_ids": ["01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b"],
    "starts_at": "2026-10-15T22:00:00+08:00",
    "ends_at": "2026-10-16T00:30:00+08:00",
    "reason": "数据库主备切换演练",
}


class MaintenanceWindowCreate(MaintenanceWindowBase, StrictInput):
    """A proposal: which instances, when (before it starts), and why."""

    model_config = schema_config(extra="forbid", example=_EXAMPLE)

    service_instance_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_INSTANCES)
    starts_at: Instant = Field(description=f"Start, inclusive. {INSTANT_RULE}")
    ends_at: Instant = Field(description=f"End, exclusive. {INSTANT_RULE}")

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > MAX_DAYS * 86_400:
            raise ValueError(f"a window lasts at most {MAX_DAYS} days")
        return self


class MaintenanceWindowPublic(MaintenanceWindowBase, PublicRecord):
    model_config = schema_config(
        example={
            "id": "01937d30-2b3c-7d4e-8f5a-6b7c8d9e0f1a",
            **_EXAMPLE,
            "status": "approved",
            "status_label": "已批准",
            "proposed_by_id": "01936f0c-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
            "decided_by_id": "01936f0c-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "decided_at": "2026-10-14T02:00:00Z",
            "decision_note": "",
            "version": 2,
            "created_at": "2026-10-13T08:00:00Z",
            "updated_at": "2026-10-14T02:00:00Z",
        }
    )

    service_instance_ids: list[uuid.UUID]
    instance_labels: list[str | None] | None = name_of("service_instance_ids", INSTANCES)
    status: MaintenanceStatus
    proposed_by_id: uuid.UUID | None
    proposed_by_name: str | None = name_of("proposed_by_id", USERS)
    decided_by_id: uuid.UUID | None
    decided_by_name: str | None = name_of("decided_by_id", USERS)
    decided_at: datetime | None
    decision_note: str
    status_label: ClassVar[str] = label_of("status")
