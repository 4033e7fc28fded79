import uuid
from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, instant_field
from opscenter.money import Money, NonNegativeMoney
from opscenter.names import USERS, name_of
from opscenter.schemas import StrictInput, schema_config
from opscenter.timekeeping import utcnow


class CreditNoteIn(StrictInput):
    model_config = schema_config(
        extra="forbid",
        example={"line_no": 1, "amount": "300.00", "reason": "10月工单 #2026-1042 经复核不属于运营方责任"},
    )

    line_no: int = Field(ge=1, description="The statement line it corrects")
    amount: NonNegativeMoney = Field(description="Credited back to the bureau, yuan, more than 0")
    reason: str = Field(min_length=1, max_length=2000)


class CreditNote(Identified, table=True):
    """A correction of an approved statement: never more, all notes together, than the statement's total."""

    __tablename__ = "credit_note"

    statement_id: uuid.UUID = Field(foreign_key="statement.id", index=True)
    line_no: int
    amount_fen: int = Field(sa_type=BigInteger, gt=0)
    reason: str = Field(max_length=2000)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = instant_field(default_factory=utcnow)


class CreditNotePublic(SQLModel):
    model_config = schema_config(
        example={
            "id": "01937e00-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "statement_id": "01937c10-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "line_no": 1,
            "amount": "300.00",
            "reason": "工单经复核不属于运营方责任",
            "created_by_id": "01936f0c-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "created_at": "2026-12-02T03:00:00Z",
        }
    )

    id: uuid.UUID
    statement_id: uuid.UUID
    line_no: int
    amount: Money
    reason: str
    created_by_id: uuid.UUID | None
    created_by_name: str | None = name_of("created_by_id", USERS)
    created_at: datetime
