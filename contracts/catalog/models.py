from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import StringConstraints
from sqlalchemy import JSON, BigInteger
from sqlmodel import Field, SQLModel

from contracts.terms import ContractTerms
from monitoring.promql import METRIC_NAME
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import NonNegativeMoney, from_fen
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of

# SQLModel's Field(regex=…) is silently ignored under pydantic 2 (sqlmodel#735): patterns go in the type.
CatalogCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME.pattern)]


class ServiceCategory(LabeledEnum):
    COMPUTE = "compute", "计算"
    STORAGE = "storage", "存储"
    NETWORK = "network", "网络"
    SECURITY = "security", "安全"
    DATABASE = "database", "数据库"
    APPLICATION_OPERATIONS = "application_operations", "应用运维"
    DATA_SERVICES = "data_services", "数据服务"
    OTHER = "other", "其他"


class SliKind(LabeledEnum):
    AVAILABILITY = "availability", "可用性"


class ServiceStatus(LabeledEnum):
    ACTIVE = "active", "在售"
    RETIRED = "retired", "已下架"


class CatalogServiceBase(SQLModel):
    code: CatalogCode = Field(
        min_length=2,
        max_length=40,
        unique=True,
        description="Catalog code, e.g. ECS-4C8G",
    )
    name: str = Field(min_length=1, max_length=100, description="e.g. 云服务器（4核8G）")
    category: ServiceCategory = enum_field(ServiceCategory)
    unit: str = Field(min_length=1, max_length=20, description="Billing unit, e.g. 台/月, TB/月, 套/月")
    description: str = Field(default="", max_length=2000)
    sli_kind: SliKind = enum_field(SliKind, default=SliKind.AVAILABILITY)
    sli_metric: MetricName = Field(default="probe_success", max_length=200)
    sli_interval_seconds: int = Field(default=60, ge=1, le=3600, description="Expected seconds between samples")


class CatalogService(CatalogServiceBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "catalog_service"

    list_price_fen: int = Field(sa_type=BigInteger, ge=0)
    default_terms: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: ServiceStatus = enum_field(ServiceStatus, default=ServiceStatus.ACTIVE)
    retired_at: datetime | None = instant_field(nullable=True, default=None)

    @property
    def list_price(self) -> Decimal:
        return from_fen(self.list_price_fen)

    @property
    def terms(self) -> ContractTerms:
        return ContractTerms.model_validate(self.default_terms)


class CatalogServiceCreate(CatalogServiceBase, StrictInput):
    list_price: NonNegativeMoney = Field(description="Monthly list price per unit, yuan")
    default_terms: ContractTerms = Field(default_factory=ContractTerms)


class CatalogServiceUpdate(StrictInput):
    """What may change on a catalog entry; contracts keep the prices they were signed at."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    category: ServiceCategory | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=2000)
    list_price: NonNegativeMoney | None = None
    sli_metric: MetricName | None = Field(default=None, max_length=200)
    sli_interval_seconds: int | None = Field(default=None, ge=1, le=3600)
    default_terms: ContractTerms | None = None


class CatalogServicePublic(CatalogServiceBase, PublicRecord):
    list_price: NonNegativeMoney
    default_terms: ContractTerms
    status: ServiceStatus
    retired_at: datetime | None
    category_label: ClassVar[str] = label_of("category")
    status_label: ClassVar[str] = label_of("status")
