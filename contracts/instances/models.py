import uuid
from typing import Any, ClassVar

from pydantic import field_validator
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.names import CONTRACTS, SERVICES
from monitoring.promql import LABEL_NAME
from opscenter.db import Identified, Timestamped, Versioned, enum_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of


class InstanceStatus(LabeledEnum):
    ACTIVE = "active", "运行中"
    DECOMMISSIONED = "decommissioned", "已停用"


def _check_matchers(matchers: dict[str, str]) -> dict[str, str]:
    if not matchers:
        raise ValueError("at least one label is needed, or the instance would match every series")
    for name, value in matchers.items():
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise ValueError(f"{name!r} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
        if not value or len(value) > 1024:
            raise ValueError(f"the value of {name!r} must be 1 to 1024 characters")
    return matchers


# An instance's id and what never changes about it once provisioned (an update may change only its name and matchers).
MEASURED_COPIES = ("id", "contract_id", "line_no", "department_id")


# What ``_check_matchers`` enforces, stated in the OpenAPI document.
LABEL_MATCHERS_SCHEMA: dict[str, Any] = {
    "propertyNames": {"pattern": r"^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$"},
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 1024},
    "minProperties": 1,
}


class ServiceInstanceBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, description="e.g. 电子健康档案系统 生产环境")
    label_matchers: dict[str, str] = Field(
        sa_type=JSON,
        schema_extra={"json_schema_extra": LABEL_MATCHERS_SCHEMA},
        description='Prometheus labels that identify it, e.g. {"instance": "https://ehealth.example.gov.cn"}',
    )


class ServiceInstance(ServiceInstanceBase, Identified, Timestamped, Versioned, table=True):
    __tablename__ = "service_instance"
    # One instance per contract line: provisioning twice is refused, never doubled.
    __table_args__ = (
        UniqueConstraint("contract_id", "line_no"),
        Index("ix_service_instance_department_id_id", "department_id", "id"),  # a department's, keyset pages
        # What a measurement's one foreign key refers to: the instance with the contract line and department
        # copied onto the measurement (id alone is unique; the index makes the four a key).
        Index("uq_service_instance_id_contract_id_line_no_department_id", *MEASURED_COPIES, unique=True),
    )

    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    line_no: int = Field(ge=1)
    # Copied from the line (which keeps them across amendments) so scoping and the SLI need no join.
    service_id: uuid.UUID = Field(foreign_key="catalog_service.id", index=True)
    department_id: uuid.UUID = Field(foreign_key="organization.id")
    status: InstanceStatus = enum_field(InstanceStatus, default=InstanceStatus.ACTIVE)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class ServiceInstanceCreate(ServiceInstanceBase, StrictInput):
    contract_id: uuid.UUID
    line_no: int = Field(ge=1)

    @field_validator("label_matchers")
    @classmethod
    def _valid_matchers(cls, matchers: dict[str, str]) -> dict[str, str]:
        return _check_matchers(matchers)


class ServiceInstanceUpdate(StrictInput):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    label_matchers: dict[str, str] | None = Field(
        default=None, schema_extra={"json_schema_extra": LABEL_MATCHERS_SCHEMA}
    )

    @field_validator("label_matchers")
    @classmethod
    def _valid_matchers(cls, matchers: dict[str, str] | None) -> dict[str, str] | None:
        return None if matchers is None else _check_matchers(matchers)


class ServiceInstancePublic(ServiceInstanceBase, PublicRecord):
    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    line_no: int
    service_id: uuid.UUID
    service_name: str | None = name_of("service_id", SERVICES)
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    status: InstanceStatus
    sli_selector: str = Field(description="The PromQL selector of its SLI, built from the matchers")
    status_label: ClassVar[str] = label_of("status")
