import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from pydantic import model_validator
from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from contracts.names import SERVICES
from contracts.pricing import total_cost
from contracts.terms import ContractTerms
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import NonNegativeMoney, from_fen, to_fen
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of


class ProcurementMethod(LabeledEnum):
    PUBLIC_TENDER = "public_tender", "公开招标"
    INVITED_TENDER = "invited_tender", "邀请招标"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation", "竞争性谈判"
    COMPETITIVE_CONSULTATION = "competitive_consultation", "竞争性磋商"
    SINGLE_SOURCE = "single_source", "单一来源"
    INQUIRY = "inquiry", "询价"
    FRAMEWORK_AGREEMENT = "framework_agreement", "框架协议"


class ContractStatus(LabeledEnum):
    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已生效"
    TERMINATED = "terminated", "已终止"
    DISCARDED = "discarded", "已作废"


class VersionStatus(LabeledEnum):
    DRAFT = "draft", "待审批"
    APPROVED = "approved", "已批准"
    DISCARDED = "discarded", "已作废"


# ---- lines -------------------------------------------------------------------------------------------------------


class ContractLineBase(SQLModel):
    service_id: uuid.UUID = Field(foreign_key="catalog_service.id", index=True)
    department_id: uuid.UUID = Field(foreign_key="organization.id", index=True, description="Beneficiary")
    quantity: int = Field(ge=1, le=100_000)
    start_date: date
    end_date: date


class ContractLine(ContractLineBase, Identified, table=True):
    __tablename__ = "contract_line"
    __table_args__ = (UniqueConstraint("contract_version_id", "line_no"),)
    # Recorded under its version; the total is derived from the audited fields.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"contract_version_id", "total_value_fen"})

    contract_version_id: uuid.UUID = Field(foreign_key="contract_version.id", index=True)
    line_no: int = Field(ge=1, description="Stable across versions: an amendment keeps a continuing line's number")
    unit_price_fen: int = Field(sa_type=BigInteger, ge=0)
    purchase_item_id: uuid.UUID | None = Field(default=None, foreign_key="purchase_item.id")
    # Prorated month by month (contracts/pricing.py) when the line is built; a line never changes after that.
    total_value_fen: int = Field(sa_type=BigInteger, ge=0)

    contract_version: "ContractVersion" = Relationship(back_populates="lines")

    @property
    def unit_price(self) -> Decimal:
        return from_fen(self.unit_price_fen)

    @property
    def total_value(self) -> Decimal:
        return from_fen(self.total_value_fen)

    @staticmethod
    def value_fen(quantity: int, unit_price_fen: int, start: date, end: date) -> int:
        """The line's value over [start, end], prorated, in fen."""
        return to_fen(total_cost(quantity, from_fen(unit_price_fen), start, end))


class ContractLineIn(ContractLineBase, StrictInput):
    line_no: int | None = Field(default=None, ge=1, description="In an amendment: the line it continues")
    unit_price: NonNegativeMoney = Field(description="Monthly price per unit as agreed, yuan")
    purchase_item_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ContractLinePublic(ContractLineBase):
    line_no: int
    service_name: str | None = name_of("service_id", SERVICES)
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    unit_price: NonNegativeMoney
    total_value: NonNegativeMoney
    purchase_item_id: uuid.UUID | None


# ---- versions ----------------------------------------------------------------------------------------------------


class ContractVersion(Identified, Timestamped, Versioned, table=True):
    """What a contract says from an effective date: version 1 is the contract as signed, later ones amend it."""

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)

    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    number: int = Field(ge=1)
    status: VersionStatus = enum_field(VersionStatus, default=VersionStatus.DRAFT)
    effective_date: date
    end_date: date
    ceiling_fen: int = Field(sa_type=BigInteger, ge=0)
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    note: str = Field(default="", max_length=2000, description="What an amendment changes, and why")
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    approved_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = instant_field(nullable=True, default=None)

    lines: list[ContractLine] = Relationship(
        back_populates="contract_version",
        sa_relationship_kwargs={
            "order_by": "ContractLine.line_no",
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
        },
    )

    @property
    def ceiling(self) -> Decimal:
        return from_fen(self.ceiling_fen)

    @property
    def contract_terms(self) -> ContractTerms:
        return ContractTerms.model_validate(self.terms)

    @property
    def total_value(self) -> Decimal:
        return from_fen(sum(line.total_value_fen for line in self.lines))


class ContractVersionPublic(PublicRecord):
    contract_id: uuid.UUID
    number: int
    status: VersionStatus
    effective_date: date
    end_date: date
    ceiling: NonNegativeMoney
    terms: ContractTerms
    lines: list[ContractLinePublic]
    total_value: NonNegativeMoney
    note: str
    created_by_id: uuid.UUID | None
    created_by_name: str | None = name_of("created_by_id", USERS)
    approved_by_id: uuid.UUID | None
    approved_by_name: str | None = name_of("approved_by_id", USERS)
    approved_at: datetime | None
    status_label: ClassVar[str] = label_of("status")


# ---- contracts ---------------------------------------------------------------------------------------------------


class ContractBase(SQLModel):
    number: str = Field(min_length=1, max_length=64, unique=True, description="e.g. SZSJ-2026-017")
    title: str = Field(min_length=1, max_length=200)
    procurement_method: ProcurementMethod = enum_field(ProcurementMethod)
    signed_date: date
    start_date: date


class Contract(ContractBase, Identified, Timestamped, Versioned, table=True):
    __table_args__ = (Index("ix_contract_status_id", "status", "id"),)  # keyset pages by status, newest first

    supplier_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    status: ContractStatus = enum_field(ContractStatus, default=ContractStatus.DRAFT)
    # The latest approved version (1 once the contract itself is approved; 0 while it is a draft).
    current_version: int = Field(default=0, ge=0)
    terminated_on: date | None = None
    termination_reason: str = Field(default="", max_length=2000)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class ContractContent(StrictInput):
    """What a contract (version 1) or an amendment says."""

    end_date: date
    ceiling: NonNegativeMoney = Field(description="The most the bureau may be billed under this contract, yuan")
    terms: ContractTerms | None = Field(default=None, description="Omitted: the services' default terms")
    lines: list[ContractLineIn] | None = Field(
        default=None, max_length=500, description="Omitted (new contract): one line per item of its purchase requests"
    )


class ContractCreate(ContractBase, ContractContent):
    supplier_id: uuid.UUID | None = Field(default=None, description="Omitted: the operations center")
    purchase_request_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class ContractUpdate(ContractBase, ContractContent):
    """A draft contract, rewritten (its requests stay as they were linked)."""


class AmendmentCreate(StrictInput):
    effective_date: date
    note: str = Field(min_length=1, max_length=2000)
    end_date: date | None = Field(default=None, description="Omitted: unchanged")
    ceiling: NonNegativeMoney | None = Field(default=None, description="Omitted: unchanged")
    terms: ContractTerms | None = Field(default=None, description="Omitted: unchanged")
    lines: list[ContractLineIn] = Field(min_length=1, max_length=500, description="The whole set of lines from now on")


class Termination(StrictInput):
    terminated_on: date
    reason: str = Field(min_length=1, max_length=2000)


class ContractPublic(ContractBase, PublicRecord):
    supplier_id: uuid.UUID
    supplier_name: str | None = name_of("supplier_id", ORGANIZATIONS)
    status: ContractStatus
    current_version: int
    end_date: date
    ceiling: NonNegativeMoney
    terms: ContractTerms
    lines: list[ContractLinePublic] = Field(description="A department sees only its own lines")
    total_value: NonNegativeMoney
    pending_amendment: int | None = Field(description="Number of an amendment awaiting approval")
    purchase_request_ids: list[uuid.UUID]
    terminated_on: date | None
    termination_reason: str
    created_by_id: uuid.UUID | None
    created_by_name: str | None = name_of("created_by_id", USERS)
    status_label: ClassVar[str] = label_of("status")
    procurement_method_label: ClassVar[str] = label_of("procurement_method")
