import json
import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, field_validator
from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from contracts.names import INSTANCES
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import NonNegativeMoney
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, check_json, label_of

MAX_SPEC_CHARS = 4000
MAX_LINKS = 50


class AssetKind(LabeledEnum):
    SERVER = "server", "服务器"
    STORAGE = "storage", "存储设备"
    NETWORK_DEVICE = "network_device", "网络设备"
    SECURITY_DEVICE = "security_device", "安全设备"
    RACK = "rack", "机柜"
    APPLICATION_SYSTEM = "application_system", "应用系统"
    DATABASE = "database", "数据库"
    SOFTWARE_LICENSE = "software_license", "软件许可"
    OTHER = "other", "其他"


class AssetState(LabeledEnum):
    """``in_department → in_handover → operated → retired``; an item rejected at inspection goes back."""

    IN_DEPARTMENT = "in_department", "部门自管"
    IN_HANDOVER = "in_handover", "移交中"
    OPERATED = "operated", "已接管运营"
    RETIRED = "retired", "已退役"


def bytewise(length: int) -> String:
    """Text compared byte by byte on every database, so that a btree index answers prefix ranges exactly.

    SQLite compares with BINARY already; on PostgreSQL the database's collation (often en_US) would order
    ``"AB-1" < "ab-2" < "AB-3"``, and a range ``[q, q⁺)`` would not be "starts with q".
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec as the register keeps it: the house's rule for free JSON (finite numbers, bounded depth, storable
    text), and at most ``MAX_SPEC_CHARS`` as JSON. Its numbers are kept as the department wrote them (1.5)."""
    check_json(spec)  # first: the depth bound keeps json.dumps below from recursing without end
    if len(json.dumps(spec, ensure_ascii=False)) > MAX_SPEC_CHARS:
        raise ValueError(f"spec is longer than {MAX_SPEC_CHARS} characters as JSON")
    return spec


class AssetsInput(StrictInput):
    """The base of this package's request bodies: the house's strict input, and text trimmed (what a
    spreadsheet's cells carry around a serial number is never part of it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssetDescription(SQLModel):
    """What a department says an asset is: the columns of a handover inventory and of the register."""

    kind: AssetKind = enum_field(AssetKind)
    name: str = Field(min_length=1, max_length=200, description="e.g. 电子健康档案数据库服务器")
    serial_number: str = Field(
        min_length=1, max_length=100, sa_type=bytewise(100), description="Unique in the register"
    )
    model: str = Field(default="", max_length=200, description="e.g. 华为 FusionServer 2288H V6")
    location: str = Field(default="", max_length=200, sa_type=bytewise(200), description="e.g. 市政务云机房A区-03")
    spec: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, description='Free-form, e.g. {"cpu": 32, "memory_gb": 256}'
    )
    purchase_date: date | None = None


class AssetIn(AssetDescription, AssetsInput):
    """A new asset as a department lists it (a handover item in JSON, or one row of an uploaded file)."""

    original_value: NonNegativeMoney

    @field_validator("spec")
    @classmethod
    def _bounded_spec(cls, spec: dict[str, Any]) -> dict[str, Any]:
        return check_spec(spec)


class AssetLink(SQLModel, table=True):
    """The asset backs this service instance (a server under an application, a rack under a cloud)."""

    __tablename__ = "asset_service_link"
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"asset_id"})  # recorded under its asset

    asset_id: uuid.UUID = Field(foreign_key="asset.id", primary_key=True)
    service_instance_id: uuid.UUID = Field(foreign_key="service_instance.id", primary_key=True, index=True)

    asset: "Asset" = Relationship(back_populates="links")


class Asset(AssetDescription, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("serial_number"),  # also the index behind serial-prefix search
        # Lists are ordered by id (newest first); each filter gets an index that serves that order.
        Index("ix_asset_owner_department_id_id", "owner_department_id", "id"),
        Index("ix_asset_state_id", "state", "id"),
        Index("ix_asset_kind_id", "kind", "id"),
        Index("ix_asset_location", "location"),
        Index("ix_asset_name_id", "name", "id"),  # sort=name
    )

    original_value_fen: int = Field(sa_type=BigInteger, ge=0)
    # Ownership never moves: a handover hands over operation, not the asset.
    owner_department_id: uuid.UUID = Field(foreign_key="organization.id")
    operator_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    state: AssetState = enum_field(AssetState, default=AssetState.IN_DEPARTMENT)
    handover_batch_id: uuid.UUID | None = Field(
        default=None, foreign_key="handover_batch.id", description="The batch it last went through"
    )
    transferred_on: date | None = Field(default=None, description="Business date of the takeover")
    retired_at: datetime | None = instant_field(nullable=True, default=None)
    retirement_reason: str = Field(default="", max_length=2000)

    links: list[AssetLink] = Relationship(
        back_populates="asset",
        sa_relationship_kwargs={
            "order_by": "AssetLink.service_instance_id",
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
        },
    )


class AssetHistory(Identified, table=True):
    """One change of one asset: who, when, what (field → [before, after]) and through which handover."""

    __tablename__ = "asset_history"
    __table_args__ = (Index("ix_asset_history_asset_id_id", "asset_id", "id"),)

    asset_id: uuid.UUID = Field(foreign_key="asset.id")
    occurred_at: datetime = instant_field()
    actor_user_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=100)
    action: str = Field(max_length=32, description="register, hand_over, reject, take_over, update, retire")
    handover_batch_id: uuid.UUID | None = Field(default=None, foreign_key="handover_batch.id")
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    note: str = Field(default="", max_length=2000)

    # Never loaded; it tells the unit of work to insert a new asset before its history rows.
    asset: Asset = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class AssetHistoryPublic(SQLModel):
    id: uuid.UUID
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    actor_name: str
    action: str
    handover_batch_id: uuid.UUID | None
    changes: dict[str, Any]
    note: str


class AssetPublic(AssetDescription, PublicRecord):
    original_value: NonNegativeMoney
    owner_department_id: uuid.UUID
    owner_department_name: str | None = name_of("owner_department_id", ORGANIZATIONS)
    operator_organization_id: uuid.UUID | None
    operator_organization_name: str | None = name_of("operator_organization_id", ORGANIZATIONS)
    state: AssetState
    handover_batch_id: uuid.UUID | None
    transferred_on: date | None
    retired_at: datetime | None
    retirement_reason: str
    service_instance_ids: list[uuid.UUID] = Field(description="The service instances it backs that you may see")
    instance_labels: list[str | None] | None = name_of("service_instance_ids", INSTANCES)

    kind_label: ClassVar[str] = label_of("kind")

    state_label: ClassVar[str] = label_of("state")


class AssetDetail(AssetPublic):
    history: list[AssetHistoryPublic] = Field(description="Every change, oldest first")


class AssetUpdate(AssetsInput):
    """What the operations center keeps up to date on an asset it operates."""

    location: str | None = Field(default=None, max_length=200)
    spec: dict[str, Any] | None = None
    service_instance_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_LINKS)

    @field_validator("spec")
    @classmethod
    def _bounded_spec(cls, spec: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if spec is None else check_spec(spec)


class Retirement(AssetsInput):
    reason: str = Field(min_length=1, max_length=2000, description="e.g. 设备老化，已报废处置")
