import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Self

from pydantic import model_validator
from sqlalchemy import BigInteger, Index
from sqlmodel import Field, Relationship, SQLModel

from contracts.names import CONTRACTS, SERVICES
from contracts.pricing import total_cost
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import NonNegativeMoney, from_fen, to_fen
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of


class PurchaseStatus(LabeledEnum):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审批"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class PurchaseItemBase(SQLModel):
    service_id: uuid.UUID = Field(foreign_key="catalog_service.id", index=True)
    quantity: int = Field(ge=1, le=100_000)
    start_date: date
    end_date: date
    justification: str = Field(min_length=1, max_length=2000, description="Why the department needs it")


class PurchaseItem(PurchaseItemBase, Identified, table=True):
    __tablename__ = "purchase_item"
    # Recorded under its request; the estimate is derived from the audited fields.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"purchase_request_id", "estimated_amount_fen"})

    purchase_request_id: uuid.UUID = Field(foreign_key="purchase_request.id", index=True)
    position: int = Field(ge=0)
    # The list price when the item was last drafted or submitted: what the approver sees is what is committed.
    unit_price_fen: int = Field(sa_type=BigInteger, ge=0)
    # Prorated month by month at unit_price_fen (contracts/pricing.py), fixed whenever the price is: see price_at.
    estimated_amount_fen: int = Field(sa_type=BigInteger, ge=0)

    request: "PurchaseRequest" = Relationship(back_populates="items")

    @property
    def unit_price(self) -> Decimal:
        return from_fen(self.unit_price_fen)

    @property
    def estimated_amount(self) -> Decimal:
        return from_fen(self.estimated_amount_fen)

    @staticmethod
    def estimate_fen(quantity: int, unit_price_fen: int, start: date, end: date) -> int:
        """What ``quantity`` at ``unit_price_fen`` a month costs over [start, end], prorated, in fen."""
        return to_fen(total_cost(quantity, from_fen(unit_price_fen), start, end))

    def price_at(self, unit_price_fen: int) -> None:
        """Set the item's unit price and the estimate that follows from it: computed once, here, not per read."""
        self.unit_price_fen = unit_price_fen
        self.estimated_amount_fen = self.estimate_fen(self.quantity, unit_price_fen, self.start_date, self.end_date)


class PurchaseItemIn(PurchaseItemBase, StrictInput):
    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class PurchaseItemPublic(PurchaseItemBase):
    id: uuid.UUID
    service_name: str | None = name_of("service_id", SERVICES)
    unit_price: NonNegativeMoney
    estimated_amount: NonNegativeMoney


class PurchaseRequestBase(SQLModel):
    title: str = Field(min_length=1, max_length=200, description="e.g. 2027年健康档案系统云资源")


class PurchaseRequest(PurchaseRequestBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "purchase_request"
    # Keyset pages, newest first: a department's, by status (the operations center's approved ones), and both.
    __table_args__ = (
        Index("ix_purchase_request_department_id_id", "department_id", "id"),
        Index("ix_purchase_request_status_id", "status", "id"),
        Index("ix_purchase_request_department_id_status_id", "department_id", "status", "id"),
        Index("ix_purchase_request_title_id", "title", "id"),  # sort=title
    )

    department_id: uuid.UUID = Field(foreign_key="organization.id")
    status: PurchaseStatus = enum_field(PurchaseStatus, default=PurchaseStatus.DRAFT)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime | None = instant_field(nullable=True, default=None)
    decided_at: datetime | None = instant_field(nullable=True, default=None)
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decision_note: str = Field(default="", max_length=2000, description="Rejection reason or return comment")
    # Set while a (non-discarded) contract was drafted from this request; a request feeds one contract.
    contract_id: uuid.UUID | None = Field(default=None, foreign_key="contract.id", index=True)

    items: list[PurchaseItem] = Relationship(
        back_populates="request",
        sa_relationship_kwargs={
            "order_by": "PurchaseItem.position",
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
        },
    )

    @property
    def estimated_total(self) -> Decimal:
        return from_fen(sum(item.estimated_amount_fen for item in self.items))


class PurchaseRequestIn(PurchaseRequestBase, StrictInput):
    """A draft, as created and as replaced while it is draft or returned."""

    items: list[PurchaseItemIn] = Field(min_length=1, max_length=100)


class PurchaseRequestPublic(PurchaseRequestBase, PublicRecord):
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    status: PurchaseStatus
    items: list[PurchaseItemPublic]
    estimated_total: NonNegativeMoney
    created_by_id: uuid.UUID | None
    created_by_name: str | None = name_of("created_by_id", USERS)
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    decided_by_name: str | None = name_of("decided_by_id", USERS)
    decision_note: str
    contract_id: uuid.UUID | None
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    status_label: ClassVar[str] = label_of("status")
