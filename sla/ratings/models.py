import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import PlainSerializer, WithJsonSchema
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.names import CONTRACTS, INSTANCES
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import LabeledEnum, PeriodText, PublicRecord, StrictInput, label_of, schema_config

MeanScore = Annotated[
    Decimal,
    PlainSerializer(lambda mean: f"{mean:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}\.\d{2}$", "examples": ["86.50"]}),
]
"""A mean of 0–100 scores, rounded half up to two decimals; a string in JSON, never a float."""


# ---- ratings -----------------------------------------------------------------------------------------------------


class Dimensions(StrictInput):
    """Optional detail beside the overall score; all three together."""

    model_config = schema_config(extra="forbid")

    quality: int = Field(ge=0, le=100, description="服务质量, 0–100")
    timeliness: int = Field(ge=0, le=100, description="响应及时性, 0–100")
    attitude: int = Field(ge=0, le=100, description="服务态度, 0–100")


class RatingContent(SQLModel):
    """What a department says about a month of a service: given when rating, given again when revising."""

    score: int = Field(ge=0, le=100, description="Overall score, 0–100")
    dimensions: Dimensions | None = Field(default=None, description="Omitted or null: no dimension scores")
    comment: str | None = Field(default=None, max_length=2000)


_RATING_EXAMPLE: dict[str, Any] = {
    "service_instance_id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b",
    "period": "2026-10",
    "score": 92,
    "dimensions": {"quality": 95, "timeliness": 88, "attitude": 93},
    "comment": "十月系统运行稳定，故障响应及时。",
}


class RatingIn(RatingContent, StrictInput):
    """A department's rating of one service instance for one month. The department is the caller's."""

    model_config = schema_config(extra="forbid", example=_RATING_EXAMPLE)

    service_instance_id: uuid.UUID = Field(description="An instance the department uses under its contract line")
    period: PeriodText = Field(description="The month, YYYY-MM")


class RatingUpdate(RatingContent, StrictInput):
    """A revision replaces the score, the dimensions and the comment; omitted ones become empty."""

    model_config = schema_config(
        extra="forbid", example={"score": 85, "dimensions": None, "comment": "复核后调整：十月有一次故障。"}
    )


BatchItem = dict[str, Any]


class RatingBatchIn(StrictInput):
    """Up to 500 ratings at once: all are written, or none and every refusal is named by its index."""

    model_config = schema_config(
        extra="forbid",
        example={"items": [_RATING_EXAMPLE, {**_RATING_EXAMPLE, "period": "2026-09", "score": 78}]},
    )

    # Each item is read as a JSON object here and checked against RatingIn by the service, item by item, so that
    # one answer names every refused item: a format error (`items.2.score`) beside a rule error
    # (`items.5.service_instance_id`), in item order. The document still shows each item as a RatingIn.
    items: list[BatchItem] = Field(min_length=1, max_length=500)
    openapi_properties: ClassVar[dict[str, Any]] = {"items": {"items": {"$ref": "#/components/schemas/RatingIn"}}}


class Rating(Identified, Timestamped, Versioned, table=True):
    __tablename__ = "rating"
    __table_args__ = (
        # One rating per department, instance and month, also under a race.
        UniqueConstraint("department_id", "service_instance_id", "period"),
        Index("ix_rating_instance_period", "service_instance_id", "period"),
    )

    department_id: uuid.UUID = Field(foreign_key="organization.id")
    service_instance_id: uuid.UUID = Field(foreign_key="service_instance.id")
    # Copied from the instance: the rating period that closes it is the contract's.
    contract_id: uuid.UUID = Field(foreign_key="contract.id")
    period: str = Field(max_length=7, index=True)
    score: int = Field(ge=0, le=100)
    quality: int | None = Field(default=None, ge=0, le=100)
    timeliness: int | None = Field(default=None, ge=0, le=100)
    attitude: int | None = Field(default=None, ge=0, le=100)
    comment: str | None = Field(default=None, max_length=2000)
    rated_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    revised_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")

    @property
    def dimensions(self) -> Dimensions | None:
        if self.quality is None or self.timeliness is None or self.attitude is None:
            return None
        return Dimensions(quality=self.quality, timeliness=self.timeliness, attitude=self.attitude)


_RATING_PUBLIC_EXAMPLE: dict[str, Any] = {
    "id": "01937a55-2b9e-7c41-8f0d-3a6b5c4d2e1f",
    **_RATING_EXAMPLE,
    "contract_id": "01936f0d-1e2f-7a3b-8c4d-5e6f7a8b9c0d",
    "department_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
    "rated_by_id": "01936f0c-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
    "revised_by_id": None,
    "version": 1,
    "created_at": "2026-11-02T01:15:00Z",
    "updated_at": "2026-11-02T01:15:00Z",
}


class RatingPublic(RatingContent, PublicRecord):
    """A rating as its department, the bureau and auditors read it (the operations center never does)."""

    model_config = schema_config(example=_RATING_PUBLIC_EXAMPLE)

    service_instance_id: uuid.UUID
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    service_name: str | None = name_of("service_instance_id", INSTANCES, "service")
    period: str
    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    rated_by_id: uuid.UUID | None
    rated_by_name: str | None = name_of("rated_by_id", USERS)
    revised_by_id: uuid.UUID | None
    revised_by_name: str | None = name_of("revised_by_id", USERS)


class RatingBatchPublic(SQLModel):
    """The ratings a batch wrote, in the order of its items."""

    model_config = schema_config(example={"count": 1, "items": [_RATING_PUBLIC_EXAMPLE]})

    count: int
    items: list[RatingPublic]


# ---- aggregates: what the operations center may read ---------------------------------------------------------------


class ScoreBand(SQLModel):
    min_score: int
    max_score: int
    count: int


class DimensionMeans(SQLModel):
    rated: int = Field(description="How many of the ratings gave dimension scores")
    quality: MeanScore | None
    timeliness: MeanScore | None
    attitude: MeanScore | None


class TicketSatisfaction(SQLModel):
    count: int
    mean: MeanScore | None = Field(description="Mean of the 1–5 scores, two decimals; null when none was given")


class RatingSummary(SQLModel):
    """Aggregates only: never who rated, never comments. The tickets' satisfaction is its own figure."""

    model_config = schema_config(
        example={
            "period": "2026-10",
            "service_instance_id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b",
            "count": 3,
            "mean_score": "86.33",
            "dimensions": {"rated": 2, "quality": "90.00", "timeliness": "84.50", "attitude": "91.00"},
            "distribution": [
                {"min_score": 90, "max_score": 100, "count": 1},
                {"min_score": 80, "max_score": 89, "count": 2},
                {"min_score": 70, "max_score": 79, "count": 0},
                {"min_score": 60, "max_score": 69, "count": 0},
                {"min_score": 0, "max_score": 59, "count": 0},
            ],
            "ticket_satisfaction": {"count": 4, "mean": "4.25"},
        }
    )

    period: str | None
    service_instance_id: uuid.UUID | None
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    count: int
    mean_score: MeanScore | None = Field(description="null when nothing was rated")
    dimensions: DimensionMeans
    distribution: list[ScoreBand] = Field(description="Ratings per score band, best first")
    ticket_satisfaction: TicketSatisfaction = Field(
        description="Its own figure: the 1–5 scores departments gave closed tickets in the period (same filters)"
    )


# ---- rating periods: open until the contract's month is closed -----------------------------------------------------


class RatingPeriodStatus(LabeledEnum):
    OPEN = "open", "可评价"
    CLOSED = "closed", "已关闭"


class RatingPeriod(Identified, Timestamped, Versioned, table=True):
    """One contract's month of ratings: open until the bureau closes it or its statement is approved."""

    __tablename__ = "rating_period"
    __table_args__ = (UniqueConstraint("contract_id", "period"),)

    contract_id: uuid.UUID = Field(foreign_key="contract.id")
    period: str = Field(max_length=7, index=True)
    status: RatingPeriodStatus = enum_field(RatingPeriodStatus, default=RatingPeriodStatus.OPEN)
    closed_at: datetime | None = instant_field(nullable=True, default=None)
    closed_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    closed_note: str = Field(default="", max_length=200, description="Why it closed, e.g. 月度结算单已批准")


class RatingPeriodPublic(PublicRecord):
    model_config = schema_config(
        example={
            "id": "01937b10-4c5d-7e6f-8a9b-0c1d2e3f4a5b",
            "contract_id": "01936f0d-1e2f-7a3b-8c4d-5e6f7a8b9c0d",
            "period": "2026-10",
            "status": "closed",
            "status_label": "已关闭",
            "closed_at": "2026-11-20T02:00:00Z",
            "closed_by_id": "01936f0c-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "closed_note": "由管理局关闭",
            "version": 2,
            "created_at": "2026-11-01T08:00:00Z",
            "updated_at": "2026-11-20T02:00:00Z",
        }
    )

    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    period: str
    status: RatingPeriodStatus
    closed_at: datetime | None
    closed_by_id: uuid.UUID | None
    closed_by_name: str | None = name_of("closed_by_id", USERS)
    closed_note: str
    status_label: ClassVar[str] = label_of("status")
