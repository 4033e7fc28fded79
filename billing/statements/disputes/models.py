import uuid
from datetime import datetime
from typing import ClassVar, Self

from pydantic import model_validator
from sqlalchemy import Index
from sqlmodel import Field

from contracts.terms import Percent
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import (
    LabeledEnum,
    PublicRecord,
    StrictInput,
    label_of,
    schema_config,
)


class DisputeStatus(LabeledEnum):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "已处理"


class DisputeOutcome(LabeledEnum):
    ACCEPTED = "accepted", "维持原结算"
    MANUAL_AVAILABILITY = "manual_availability", "人工核定可用率"
    MANUAL_SCORE = "manual_score", "人工核定评分"


class DisputeIn(StrictInput):
    model_config = schema_config(
        extra="forbid", example={"line_no": 1, "reason": "10月12日故障系机房停电所致，已报备维护窗口，不应计入可用率。"}
    )

    line_no: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=2000, description="申诉理由")


class DisputeResolution(StrictInput):
    """The bureau's decision: accept the line as billed, or set the availability or the score by hand."""

    model_config = schema_config(
        extra="forbid",
        example={"resolution": "manual_score", "score": 70, "reason": "评价系误操作，按复核结果计"},
    )

    resolution: DisputeOutcome
    availability: Percent | None = Field(default=None, description="With manual_availability: percent, e.g. 99.95")
    score: int | None = Field(
        default=None, ge=0, le=100, description="With manual_score: 0–100, an integer like a rating's score"
    )
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _value_matches_resolution(self) -> Self:
        wants = {DisputeOutcome.MANUAL_AVAILABILITY: "availability", DisputeOutcome.MANUAL_SCORE: "score"}.get(
            self.resolution
        )
        for name in ("availability", "score"):
            given = getattr(self, name) is not None
            if given and name != wants:
                raise ValueError(f"{name} is only given with resolution manual_{name}")
            if not given and name == wants:
                raise ValueError(f"resolution {self.resolution.value} needs {name}")
        return self


class Dispute(Identified, Timestamped, Versioned, table=True):
    """申诉: a line of a statement contested before approval, open until the bureau resolves it."""

    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_statement_id_line_no", "statement_id", "line_no"),)

    statement_id: uuid.UUID = Field(foreign_key="statement.id")
    line_no: int
    raised_by_org_id: uuid.UUID = Field(foreign_key="organization.id")
    raised_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    reason: str = Field(max_length=2000)
    status: DisputeStatus = enum_field(DisputeStatus, default=DisputeStatus.OPEN)
    resolution: DisputeOutcome | None = enum_field(DisputeOutcome, nullable=True, default=None)
    manual_value: str | None = Field(default=None, max_length=24)
    resolution_reason: str = Field(default="", max_length=2000)
    resolved_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = instant_field(nullable=True, default=None)


class DisputePublic(PublicRecord):
    model_config = schema_config(
        example={
            "id": "01937d00-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "statement_id": "01937c10-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "line_no": 1,
            "raised_by_org_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
            "raised_by_id": "01936f0c-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
            "reason": "故障系机房停电所致",
            "status": "resolved",
            "status_label": "已处理",
            "resolution": "manual_availability",
            "manual_value": "99.95",
            "resolution_reason": "停电时段按维护窗口扣除",
            "resolved_by_id": "01936f0c-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "resolved_at": "2026-11-10T02:00:00Z",
            "version": 2,
            "created_at": "2026-11-05T02:00:00Z",
            "updated_at": "2026-11-10T02:00:00Z",
        }
    )

    statement_id: uuid.UUID
    line_no: int
    raised_by_org_id: uuid.UUID
    raised_by_org_name: str | None = name_of("raised_by_org_id", ORGANIZATIONS)
    raised_by_id: uuid.UUID | None
    raised_by_name: str | None = name_of("raised_by_id", USERS)
    reason: str
    status: DisputeStatus
    resolution: DisputeOutcome | None
    manual_value: str | None
    resolution_reason: str
    resolved_by_id: uuid.UUID | None
    resolved_by_name: str | None = name_of("resolved_by_id", USERS)
    resolved_at: datetime | None
    status_label: ClassVar[str] = label_of("status")
