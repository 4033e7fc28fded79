import uuid
from datetime import date, datetime
from typing import ClassVar, Self

from pydantic import computed_field, model_validator
from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from operations.assets.register.models import Asset, AssetDescription, AssetIn, AssetKind, AssetsInput
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import NonNegativeMoney
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, label_of

# A batch is one transaction at takeover: bounded so that its largest step stays a few seconds.
MAX_ITEMS = 20_000
MAX_JSON_ITEMS = 5_000  # per request; larger inventories come as a file
# A 20,000-row inventory is about 4 MB as CSV; the app-wide limit (OPSCENTER_MAX_BODY_BYTES, 1 MiB) is for JSON.
# What a file may make the server do once received is bounded by the OPSCENTER_UPLOAD_* settings. The API's import
# and the console's upload form take the same.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


class HandoverStatus(LabeledEnum):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "验收中"
    INSPECTED = "inspected", "待签署"
    COMPLETED = "completed", "已接管"
    CANCELLED = "cancelled", "已取消"


class InspectionResult(LabeledEnum):
    PENDING = "pending", "待验收"
    ACCEPTED = "accepted", "验收合格"
    REJECTED = "rejected", "验收不合格"


class SigningParty(LabeledEnum):
    DEPARTMENT = "department", "移交部门"
    OPERATOR = "operator", "运营中心"
    BUREAU = "bureau", "数据局"


class HandoverBatchBase(SQLModel):
    title: str = Field(min_length=1, max_length=200, description="e.g. 卫健委2027年第一批基础设施移交")
    planned_date: date = Field(description="When the department plans to hand the assets over")


class HandoverSignature(Identified, table=True):
    """One party's signature on an inspected batch: each party signs a batch once (unique key)."""

    __tablename__ = "handover_signature"
    __table_args__ = (UniqueConstraint("batch_id", "party"),)
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"batch_id"})  # recorded under its batch

    batch_id: uuid.UUID = Field(foreign_key="handover_batch.id")
    party: SigningParty = enum_field(SigningParty)
    signed_by_id: uuid.UUID = Field(foreign_key="user.id")
    signed_by_name: str = Field(max_length=100)
    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    signed_at: datetime = instant_field()
    comment: str = Field(default="", max_length=500)

    batch: "HandoverBatch" = Relationship(back_populates="signatures")


class HandoverBatch(HandoverBatchBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "handover_batch"
    __table_args__ = (
        Index("ix_handover_batch_department_id_id", "department_id", "id"),
        Index("ix_handover_batch_status_id", "status", "id"),
    )

    department_id: uuid.UUID = Field(foreign_key="organization.id")
    status: HandoverStatus = enum_field(HandoverStatus, default=HandoverStatus.DRAFT)
    item_count: int = 0
    accepted_count: int = 0
    rejected_count: int = 0
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime | None = instant_field(nullable=True, default=None)
    inspection_completed_at: datetime | None = instant_field(nullable=True, default=None)
    # The version at which inspection completed: a signature with any If-Match from it on was made on the
    # final inventory (later versions differ only by other parties' signatures), see flows.sign.
    signable_since_version: int | None = None
    completed_at: datetime | None = instant_field(nullable=True, default=None)
    transfer_date: date | None = Field(default=None, description="Business date on which the assets were taken over")
    operator_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    cancelled_at: datetime | None = instant_field(nullable=True, default=None)

    signatures: list[HandoverSignature] = Relationship(
        back_populates="batch",
        sa_relationship_kwargs={"order_by": "HandoverSignature.signed_at", "lazy": "selectin"},
    )


class HandoverItem(AssetDescription, Identified, table=True):
    """One line of a batch's inventory: the asset as the department described it, and its inspection."""

    __tablename__ = "handover_item"
    __table_args__ = (
        UniqueConstraint("batch_id", "position"),  # also the index that lists a batch's items in order
        UniqueConstraint("batch_id", "serial_number"),
        Index("ix_handover_item_batch_id_result", "batch_id", "result"),
    )

    batch_id: uuid.UUID = Field(foreign_key="handover_batch.id")
    position: int = Field(ge=1, description="1, 2, … in the order the items were added")
    original_value_fen: int = Field(sa_type=BigInteger, ge=0)
    # Set at submission for a new asset; from the start for an asset already in the register.
    asset_id: uuid.UUID | None = Field(default=None, foreign_key="asset.id", index=True)
    result: InspectionResult = enum_field(InspectionResult, default=InspectionResult.PENDING)
    defect_note: str = Field(default="", max_length=2000)
    inspected_at: datetime | None = instant_field(nullable=True, default=None)
    inspected_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")

    # Never loaded; it tells the unit of work to insert a new asset before the item that points to it.
    asset: Asset | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class HandoverItemsIn(AssetsInput):
    """Items for a draft batch: new assets described in full, and assets already in the register (one that
    was rejected before, or listed in a cancelled batch) by id."""

    items: list[AssetIn] = Field(default_factory=list, max_length=MAX_JSON_ITEMS)
    asset_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_JSON_ITEMS)


class HandoverBatchCreate(HandoverBatchBase, HandoverItemsIn):
    pass


class ItemDecision(AssetsInput):
    item_id: uuid.UUID
    result: InspectionResult
    defect_note: str = Field(default="", max_length=2000, description="Required when rejected: what is wrong")

    @model_validator(mode="after")
    def _decided(self) -> Self:
        if self.result == InspectionResult.PENDING:
            raise ValueError("result must be accepted or rejected")
        if self.result == InspectionResult.REJECTED and not self.defect_note:
            raise ValueError("a rejected item needs a defect_note saying what is wrong")
        return self


class InspectionIn(AssetsInput):
    decisions: list[ItemDecision] = Field(default_factory=list, max_length=MAX_ITEMS)
    accept_remaining: bool = Field(default=False, description="After these decisions, accept every item still pending")


class SignatureIn(AssetsInput):
    comment: str = Field(default="", max_length=500)


class HandoverSignaturePublic(SQLModel):
    party: SigningParty
    signed_by_id: uuid.UUID
    signed_by_name: str
    organization_id: uuid.UUID
    organization_name: str | None = name_of("organization_id", ORGANIZATIONS)
    signed_at: datetime
    comment: str

    party_label: ClassVar[str] = label_of("party")


class HandoverBatchPublic(HandoverBatchBase, PublicRecord):
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    status: HandoverStatus
    item_count: int
    accepted_count: int
    rejected_count: int
    created_by_id: uuid.UUID | None
    created_by_name: str | None = name_of("created_by_id", USERS)
    submitted_at: datetime | None
    inspection_completed_at: datetime | None
    completed_at: datetime | None
    transfer_date: date | None
    operator_organization_id: uuid.UUID | None
    operator_organization_name: str | None = name_of("operator_organization_id", ORGANIZATIONS)
    cancelled_at: datetime | None
    signatures: list[HandoverSignaturePublic]

    status_label: ClassVar[str] = label_of("status")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending_count(self) -> int:
        return self.item_count - self.accepted_count - self.rejected_count

    @computed_field  # type: ignore[prop-decorator]
    @property
    def awaiting_signatures(self) -> list[SigningParty]:
        signed = {signature.party for signature in self.signatures}
        return [party for party in SigningParty if party not in signed]


class HandoverItemPublic(AssetDescription):
    id: uuid.UUID
    position: int
    asset_id: uuid.UUID | None
    original_value: NonNegativeMoney
    result: InspectionResult
    defect_note: str
    inspected_at: datetime | None
    inspected_by_id: uuid.UUID | None
    inspected_by_name: str | None = name_of("inspected_by_id", USERS)

    kind_label: ClassVar[str] = label_of("kind")

    result_label: ClassVar[str] = label_of("result")


class KindCount(SQLModel):
    kind: AssetKind
    kind_label: str
    total: int
    accepted: int
    rejected: int
    pending: int


class Defect(SQLModel):
    item_id: uuid.UUID
    position: int
    serial_number: str
    name: str
    kind: AssetKind
    defect_note: str
    inspected_at: datetime | None
    inspected_by_id: uuid.UUID | None


class InspectionReport(SQLModel):
    """Where inspection of a batch stands: counts overall and by kind, and every rejected item's defect."""

    batch_id: uuid.UUID
    status: HandoverStatus
    total: int
    accepted: int
    rejected: int
    pending: int
    complete: bool
    by_kind: list[KindCount]
    defects: list[Defect]
