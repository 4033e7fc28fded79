import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import WithJsonSchema
from sqlmodel import Field, SQLModel

from contracts.names import CONTRACTS, INSTANCES
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import DECIMAL_AS_TEXT, LabeledEnum, label_of, schema_config

PercentText = Annotated[
    Decimal,
    DECIMAL_AS_TEXT,
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}(\.\d+)?$", "examples": ["99.59"]}),
]
"""A percentage at the precision the contract's terms use, rounded down (so it is below a threshold exactly when
the exact ratio is); a string in JSON, never a float."""


class SlaStatus(LabeledEnum):
    MET = "met", "达标"
    BREACHED = "breached", "未达标"
    INSUFFICIENT_DATA = "insufficient_data", "数据不足"
    PENDING = "pending", "待定"


_EXAMPLE = {
    "contract_id": "01936f0d-1e2f-7a3b-8c4d-5e6f7a8b9c0d",
    "line_no": 1,
    "period": "2026-10",
    "service_instance_id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b",
    "department_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
    "first_day": "2026-10-10",
    "last_day": "2026-10-31",
    "active_days": 22,
    "status": "breached",
    "status_label": "未达标",
    "availability": "99.40",
    "coverage": "99.8",
    "availability_target": "99.90",
    "min_coverage": "95.0",
    "credit_pct": "10",
    "credit_tier_below": "99.50",
    "up_samples": 31490,
    "samples": 31680,
    "expected_samples": 31680,
    "maintenance_minutes": 0,
    "days_missing": 0,
    "error_budget_left": "0",
    "promql": [
        '(sum(sum_over_time(probe_success{instance="https://ehealth.example.gov.cn"}[1900799999ms] @ 1793462399.999))'
        " or vector(0))",
        '(sum(count_over_time(probe_success{instance="https://ehealth.example.gov.cn"}[1900799999ms] @ 1793462399.999))'
        " or vector(0))",
    ],
}


class LineReport(SQLModel):
    """One contract line's month: the figures, the verdict, the credit tier, and the evidence."""

    model_config = schema_config(frozen=True, example=_EXAMPLE)

    contract_id: uuid.UUID
    contract_number: str | None = name_of("contract_id", CONTRACTS, "number")
    line_no: int
    period: str
    service_instance_id: uuid.UUID | None = Field(description="null: the line has no service instance to measure")
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    service_name: str | None = name_of("service_instance_id", INSTANCES, "service")
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    first_day: date = Field(description="The line's first active day in the month")
    last_day: date
    active_days: int
    status: SlaStatus
    availability: PercentText | None = Field(description="up / samples; null when nothing was sampled")
    coverage: PercentText | None = Field(description="samples / expected; null when nothing was expected")
    availability_target: PercentText
    min_coverage: PercentText
    credit_pct: PercentText = Field(description="The credit tier's share of the base; 0 when none applies")
    credit_tier_below: PercentText | None = Field(description="The `below` of the tier that applies")
    up_samples: int
    samples: int
    expected_samples: int
    maintenance_minutes: int = Field(description="Approved maintenance cut out of the measured days")
    days_missing: int = Field(description="Active days that are over but not measured yet")
    error_budget_left: PercentText | None = Field(
        default=None,
        description="Share of the month's error budget (1 - target, over the line's active days) not yet spent by "
        "the down samples measured so far: in the current month, how much downtime may still come before the target "
        "is missed (0 when spent); null when nothing was measured",
    )
    promql: list[str] = Field(
        description="Up samples, then samples: paste into Prometheus to reproduce the counts of the measured days"
    )
    status_label: ClassVar[str] = label_of("status")
