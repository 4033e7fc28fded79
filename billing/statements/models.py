import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import WithJsonSchema
from sqlalchemy import JSON, BigInteger, Dialect, Index, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from billing.statements.credit_notes.models import CreditNotePublic
from billing.statements.disputes.models import DisputePublic
from contracts.names import INSTANCES, SERVICES
from opscenter.db import Identified, Timestamped, Versioned, enum_field, instant_field
from opscenter.money import Money, from_fen
from opscenter.names import ORGANIZATIONS, USERS, name_of
from opscenter.schemas import (
    DECIMAL_AS_TEXT,
    LabeledEnum,
    PeriodText,
    PublicRecord,
    StrictInput,
    label_of,
    schema_config,
)
from opscenter.timekeeping import Period
from sla.ratings.models import MeanScore


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its text on both databases: SQLite has no exact numeric type, and a percentage such
    as 99.40 must come back as 99.40, never as 99.40000000000001."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else format(value, "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def decimal_field(*, nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_type=DecimalText, nullable=nullable, **kwargs)


Figure = Annotated[
    Decimal, DECIMAL_AS_TEXT, WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}(\.\d+)?$", "examples": ["99.40"]})
]
"""A percentage, score or coefficient as the statement applied it: a decimal string in JSON, never a float."""


class StatementStatus(LabeledEnum):
    DRAFT = "draft", "草稿"
    ISSUED = "issued", "已出具"
    APPROVED = "approved", "已批准"
    PAID = "paid", "已支付"


FROZEN = (StatementStatus.APPROVED, StatementStatus.PAID)


class SlaVerdict(LabeledEnum):
    """The SLA report's status for the line, as billed."""

    MET = "met", "达标"
    BREACHED = "breached", "未达标"
    INSUFFICIENT_DATA = "insufficient_data", "数据不足"
    PENDING = "pending", "待定"


class LineFlag(LabeledEnum):
    INSUFFICIENT_DATA = "insufficient_data", "数据不足，需复核"
    UNRATED = "unrated", "本月未评价"
    PENDING = "pending", "SLA 待定"


# ---- runs ----------------------------------------------------------------------------------------------------------


class BillingRunIn(StrictInput):
    model_config = schema_config(extra="forbid", example={"period": "2026-10"})

    period: PeriodText = Field(description="The month to bill, YYYY-MM; it must have ended (Asia/Shanghai)")

    @property
    def month(self) -> Period:
        return Period.parse(self.period)


class BillingRun(Identified, table=True):
    """One generation of a period's statements: what it created, refreshed and left alone."""

    __tablename__ = "billing_run"

    period: str = Field(max_length=7, index=True)
    requested_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    requested_by: str = Field(max_length=200, description="The user, or the job or command, that ran it")
    started_at: datetime = instant_field()
    finished_at: datetime = instant_field()
    contracts: int = 0
    lines: int = 0
    created: int = Field(default=0, description="New draft statements")
    refreshed: int = Field(default=0, description="Drafts recomputed")
    kept: int = Field(default=0, description="Issued, approved or paid statements left as they were")


class BillingRunPublic(SQLModel):
    model_config = schema_config(
        example={
            "id": "01937c00-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "period": "2026-10",
            "requested_by_id": None,
            "requested_by": "job:billing.monthly_run",
            "started_at": "2026-11-01T01:00:00Z",
            "finished_at": "2026-11-01T01:00:04Z",
            "contracts": 120,
            "lines": 1480,
            "created": 118,
            "refreshed": 0,
            "kept": 2,
        }
    )

    id: uuid.UUID
    period: str
    requested_by_id: uuid.UUID | None
    requested_by_name: str | None = name_of("requested_by_id", USERS)
    requested_by: str
    started_at: datetime
    finished_at: datetime
    contracts: int
    lines: int
    created: int
    refreshed: int
    kept: int


# ---- statements ----------------------------------------------------------------------------------------------------


class Statement(Identified, Timestamped, Versioned, table=True):
    """A contract's month: one per (contract, period), also under concurrent runs."""

    __tablename__ = "statement"
    __table_args__ = (
        UniqueConstraint("contract_id", "period"),
        Index("ix_statement_period_id", "period", "id"),
        Index("ix_statement_status_id", "status", "id"),
        Index("ix_statement_contract_number_id", "contract_number", "id"),  # sort=number
    )
    # Derived sums and bookkeeping of the run; the lines carry the substance.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"run_id", "generated_at"})

    contract_id: uuid.UUID = Field(foreign_key="contract.id", index=True)
    contract_number: str = Field(max_length=64)
    supplier_id: uuid.UUID = Field(foreign_key="organization.id")
    period: str = Field(max_length=7)
    status: StatementStatus = enum_field(StatementStatus, default=StatementStatus.DRAFT)
    base_fen: int = Field(sa_type=BigInteger, default=0)
    deduction_fen: int = Field(sa_type=BigInteger, default=0)
    amount_fen: int = Field(sa_type=BigInteger, default=0)
    ceiling_fen: int = Field(sa_type=BigInteger, default=0)
    billed_before_fen: int = Field(sa_type=BigInteger, default=0)
    over_ceiling: bool = False
    run_id: uuid.UUID | None = Field(default=None, foreign_key="billing_run.id")
    generated_at: datetime = instant_field()
    issued_at: datetime | None = instant_field(nullable=True, default=None)
    issued_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = instant_field(nullable=True, default=None)
    approved_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    paid_on: date | None = None
    payment_reference: str = Field(default="", max_length=100)
    paid_at: datetime | None = instant_field(nullable=True, default=None)
    paid_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class StatementLine(Identified, table=True):
    """One contract line's month, with every figure of the formula and the evidence behind it."""

    __tablename__ = "statement_line"
    __table_args__ = (UniqueConstraint("statement_id", "line_no"),)

    statement_id: uuid.UUID = Field(foreign_key="statement.id", index=True)
    line_no: int
    department_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    service_id: uuid.UUID = Field(foreign_key="catalog_service.id")
    # Indexed: each rating written looks for the open statements billing its instance (statements/restating.py).
    service_instance_id: uuid.UUID | None = Field(default=None, foreign_key="service_instance.id", index=True)
    quantity: int = Field(description="On the line's last active day of the month")
    unit_price_fen: int = Field(sa_type=BigInteger)
    first_day: date
    last_day: date
    active_days: int
    days_in_month: int
    base_fen: int = Field(sa_type=BigInteger)
    sla_status: SlaVerdict = enum_field(SlaVerdict)
    availability: Decimal | None = decimal_field(nullable=True, default=None)
    measured_availability: Decimal | None = decimal_field(nullable=True, default=None)
    manual_availability: Decimal | None = decimal_field(nullable=True, default=None)
    coverage: Decimal | None = decimal_field(nullable=True, default=None)
    credit_pct: Decimal = decimal_field(default=Decimal(0))
    credit_tier_below: Decimal | None = decimal_field(nullable=True, default=None)
    sla_credit_fen: int = Field(sa_type=BigInteger)
    penalties_fen: int = Field(sa_type=BigInteger)
    tickets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    score: Decimal | None = decimal_field(nullable=True, default=None)
    measured_score: Decimal | None = decimal_field(nullable=True, default=None)
    manual_score: Decimal | None = decimal_field(nullable=True, default=None)
    ratings: int = 0
    coefficient: Decimal = decimal_field(default=Decimal(1))
    rating_ded_fen: int = Field(sa_type=BigInteger)
    cap_fen: int = Field(sa_type=BigInteger)
    deduction_fen: int = Field(sa_type=BigInteger)
    amount_fen: int = Field(sa_type=BigInteger)
    insufficient_data: bool = False
    unrated: bool = False
    pending: bool = False
    # What a dispute's resolution set by hand (else null), and why.
    manual_note: str = Field(default="", max_length=2000)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The tiers the line was billed under, so a resolved dispute recomputes it under the same terms.
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

    @property
    def flags(self) -> list[LineFlag]:
        flagged = [(self.insufficient_data, LineFlag.INSUFFICIENT_DATA), (self.unrated, LineFlag.UNRATED)]
        flagged.append((self.pending, LineFlag.PENDING))
        return [flag for on, flag in flagged if on]


# ---- what the API answers ------------------------------------------------------------------------------------------


class PenaltyTicket(SQLModel):
    ticket_id: uuid.UUID
    number: str
    priority: str
    resolution_due_at: datetime
    penalty: Money


class SlaEvidence(SQLModel):
    """The SLA report's figures behind the credit, and the PromQL that reproduces them."""

    up_samples: int | None = None
    samples: int | None = None
    expected_samples: int | None = None
    maintenance_minutes: int | None = None
    days_missing: int | None = None
    promql: list[str] = Field(default_factory=list)


class StatementLinePublic(SQLModel):
    line_no: int
    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    service_id: uuid.UUID
    service_name: str | None = name_of("service_id", SERVICES)
    service_instance_id: uuid.UUID | None
    instance_label: str | None = name_of("service_instance_id", INSTANCES)
    quantity: int
    unit_price: Money
    first_day: date
    last_day: date
    active_days: int
    days_in_month: int
    base: Money
    sla_status: SlaVerdict
    availability: Figure | None = Field(description="As billed: measured, or set by a resolved dispute")
    measured_availability: Figure | None
    manual_availability: Figure | None
    coverage: Figure | None
    credit_pct: Figure
    credit_tier_below: Figure | None
    sla_credit: Money
    penalties: Money
    tickets: list[PenaltyTicket] = Field(description="The tickets whose resolution due time passed unmet")
    score: MeanScore | None = Field(
        description="As billed: the month's mean rating, or set by a resolved dispute; two decimals"
    )
    measured_score: MeanScore | None
    manual_score: MeanScore | None
    ratings: int = Field(description="How many ratings the score is the mean of")
    coefficient: Figure
    rating_ded: Money
    cap: Money
    deduction: Money
    amount: Money
    flags: list[LineFlag]
    manual_note: str
    disputed: bool = Field(description="An open dispute holds the statement's approval")
    evidence: SlaEvidence
    sla_status_label: ClassVar[str] = label_of("sla_status")

    @classmethod
    def of(cls, line: StatementLine, *, disputed: bool) -> "StatementLinePublic":
        return cls(
            **{name: getattr(line, name) for name in _LINE_PLAIN},
            unit_price=from_fen(line.unit_price_fen),
            base=from_fen(line.base_fen),
            sla_credit=from_fen(line.sla_credit_fen),
            penalties=from_fen(line.penalties_fen),
            tickets=[PenaltyTicket.model_validate(ticket) for ticket in line.tickets],
            rating_ded=from_fen(line.rating_ded_fen),
            cap=from_fen(line.cap_fen),
            deduction=from_fen(line.deduction_fen),
            amount=from_fen(line.amount_fen),
            flags=line.flags,
            disputed=disputed,
            evidence=SlaEvidence.model_validate(line.evidence),
        )


_LINE_PLAIN = [
    "line_no",
    "department_id",
    "service_id",
    "service_instance_id",
    "quantity",
    "first_day",
    "last_day",
    "active_days",
    "days_in_month",
    "sla_status",
    "availability",
    "measured_availability",
    "manual_availability",
    "coverage",
    "credit_pct",
    "credit_tier_below",
    "score",
    "measured_score",
    "manual_score",
    "ratings",
    "coefficient",
    "manual_note",
]


class StatementPublic(PublicRecord):
    """A statement as listed. For a department, the sums cover its own lines only."""

    contract_id: uuid.UUID
    contract_number: str
    supplier_id: uuid.UUID
    supplier_name: str | None = name_of("supplier_id", ORGANIZATIONS)
    period: str
    status: StatementStatus
    base: Money
    deduction: Money
    amount: Money
    credited: Money = Field(description="Credit notes posted against it after approval")
    payable: Money = Field(description="amount − credited")
    ceiling: Money
    billed_before: Money = Field(description="The contract's approved statements before this one, net of credits")
    over_ceiling: bool = Field(description="Approving it would take the contract over its ceiling: refused")
    flags: list[LineFlag] = Field(description="Every flag of any of its lines")
    open_disputes: int
    generated_at: datetime
    issued_at: datetime | None
    issued_by_id: uuid.UUID | None
    issued_by_name: str | None = name_of("issued_by_id", USERS)
    approved_at: datetime | None
    approved_by_id: uuid.UUID | None
    approved_by_name: str | None = name_of("approved_by_id", USERS)
    paid_on: date | None
    payment_reference: str
    status_label: ClassVar[str] = label_of("status")


class StatementDetail(StatementPublic):
    lines: list[StatementLinePublic]
    disputes: list[DisputePublic] = Field(description="Oldest first")
    credit_notes: list[CreditNotePublic] = Field(description="Oldest first")


class Payment(StrictInput):
    model_config = schema_config(extra="forbid", example={"paid_on": "2026-12-10", "reference": "GK2026120100345"})

    paid_on: date = Field(description="The date the bureau paid")
    reference: str = Field(min_length=1, max_length=100, description="The payment's reference (国库支付凭证号)")
