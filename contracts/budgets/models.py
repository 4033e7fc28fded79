import uuid
from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, Timestamped, Versioned, instant_field
from opscenter.money import NonNegativeMoney
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import PublicRecord, StrictInput
from opscenter.timekeeping import utcnow


class BudgetBase(SQLModel):
    department_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    fiscal_year: int = Field(ge=2000, le=2100, description="Calendar year")


class Budget(BudgetBase, Identified, Timestamped, Versioned, table=True):
    __table_args__ = (UniqueConstraint("department_id", "fiscal_year"),)

    amount_fen: int = Field(sa_type=BigInteger, ge=0)


class BudgetCommitment(Identified, table=True):
    """The part of an approved purchase request's estimated cost that falls in one fiscal year."""

    __tablename__ = "budget_commitment"
    __table_args__ = (UniqueConstraint("budget_id", "purchase_request_id"),)

    budget_id: uuid.UUID = Field(foreign_key="budget.id", index=True)
    purchase_request_id: uuid.UUID = Field(foreign_key="purchase_request.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger, ge=0)
    created_at: datetime = instant_field(default_factory=utcnow)


class BudgetCreate(BudgetBase, StrictInput):
    amount: NonNegativeMoney


class BudgetUpdate(StrictInput):
    amount: NonNegativeMoney


class BudgetPublic(BudgetBase, PublicRecord):
    amount: NonNegativeMoney
    department_name: str | None = name_of("department_id", ORGANIZATIONS)
    committed: NonNegativeMoney = Field(description="Estimated cost of approved purchase requests in this year")
    remaining: NonNegativeMoney
