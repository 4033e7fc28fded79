import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.instances.models import MEASURED_COPIES
from contracts.names import CONTRACTS, INSTANCES
from opscenter.db import Identified, instant_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import schema_config


class MeasurementBase(SQLModel):
    service_instance_id: uuid.UUID
    day: date = Field(description="The Asia/Shanghai calendar day measured")
    up_samples: int = Field(ge=0, description="Samples equal to 1")
    samples: int = Field(ge=0, description="Samples present")
    expected_samples: int = Field(ge=0, description="Measured seconds / the SLI's interval")
    maintenance_seconds: int = Field(ge=0, description="Seconds of approved maintenance cut out of the day")
    pulled_at: datetime = instant_field()
    promql: list[str] = Field(
        sa_type=JSON,
        description="Queries that give exactly these counts for this instance alone, to paste into Prometheus",
    )


class Measurement(MeasurementBase, Identified, table=True):
    """One instance's day: written once (the unique key decides, also when two pulls race), never updated."""

    __tablename__ = "sla_measurement"
    __table_args__ = (
        # One key for the instance and the three columns copied from it: the copies are the instance's (and a
        # pull's insert checks one key per row, not three; on PostgreSQL three cost 0.19 s for 10,000 rows).
        ForeignKeyConstraint(
            ["service_instance_id", "contract_id", "line_no", "department_id"],
            [f"service_instance.{column}" for column in MEASURED_COPIES],
        ),
        UniqueConstraint("service_instance_id", "day"),
        Index("ix_sla_measurement_department_id_id", "department_id", "id"),
        Index("ix_sla_measurement_day", "day"),
    )

    # Copied from the instance, so that scoping and reports need no join.
    department_id: uuid.UUID
    contract_id: uuid.UUID
    line_no: int


_EXAMPLE: dict[str, Any] = {
    "id": "01937c20-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "service_instance_id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b",
    "contract_id": "01936f0d-1e2f-7a3b-8c4d-5e6f7a8b9c0d",
    "line_no": 1,
    "department_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
    "day": "2026-10-05",
    "up_samples": 1320,
    "samples": 1440,
    "expected_samples": 1440,
    "maintenance_seconds": 0,
    "pulled_at": "2026-10-05T17:15:00Z",
    "promql": [
        'sum(sum_over_time(probe_success{instance="https://ehealth.example.gov.cn"}[86399999ms] @ 1791215999.999))',
        'sum(count_over_time(probe_success{instance="https://ehealth.example.gov.cn"}[86399999ms] @ 1791215999.999))',
    ],
}


class MeasurementPublic(MeasurementBase):
    model_config = schema_config(example=_EXAMPLE)

    id: uuid.UUID
    department_id: uuid.UUID
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    line_no: int
