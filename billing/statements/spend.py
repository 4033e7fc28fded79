"""Each department's fiscal-year spend (approved and paid statement lines, net of credit notes) against its budget.

The fiscal year is the calendar year of the statement's period. A department reads its own figures.
"""

import uuid

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Field, Session, SQLModel

from billing.statements.credit_notes.models import CreditNote
from billing.statements.models import FROZEN, Statement, StatementLine
from contracts.budgets import service as budgets
from opscenter.db import core_table
from opscenter.identity.actor import Actor
from opscenter.money import Money, from_fen
from opscenter.schemas import schema_config


class DepartmentSpend(SQLModel):
    model_config = schema_config(
        example={
            "fiscal_year": 2026,
            "department_id": "01936f0c-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
            "budget": "500000.00",
            "spent": "216464.52",
            "remaining": "283535.48",
        }
    )

    fiscal_year: int
    department_id: uuid.UUID
    budget: Money | None = Field(description="null: the department has no budget for the year")
    spent: Money = Field(description="Its lines of approved and paid statements of the year, less credit notes")
    remaining: Money | None


class SpendList(SQLModel):
    items: list[DepartmentSpend]


def spend(session: Session, *, fiscal_year: int, actor: Actor) -> SpendList:
    statements, lines, notes = core_table(Statement), core_table(StatementLine), core_table(CreditNote)
    in_year: list[ColumnElement[bool]] = [
        statements.c.period.like(f"{fiscal_year:04d}-%"),
        statements.c.status.in_([status.value for status in FROZEN]),
    ]
    if actor.is_department:
        in_year.append(lines.c.department_id == actor.required_organization_id)
    billed = (
        select(lines.c.department_id, func.sum(lines.c.amount_fen))
        .join(statements, statements.c.id == lines.c.statement_id)
        .where(*in_year)
        .group_by(lines.c.department_id)
    )
    credited = (
        select(lines.c.department_id, func.sum(notes.c.amount_fen))
        .join(statements, statements.c.id == notes.c.statement_id)
        .join(lines, (lines.c.statement_id == notes.c.statement_id) & (lines.c.line_no == notes.c.line_no))
        .where(*in_year)
        .group_by(lines.c.department_id)
    )
    spent: dict[uuid.UUID, int] = {}
    for department_id, amount in session.connection().execute(billed):
        spent[department_id] = int(amount or 0)
    for department_id, amount in session.connection().execute(credited):
        spent[department_id] = spent.get(department_id, 0) - int(amount or 0)
    budget_of = budgets.budget_amounts(session, fiscal_year=fiscal_year, actor=actor)
    departments = sorted(set(spent) | set(budget_of), key=str)
    items = []
    for department_id in departments:
        budget = budget_of.get(department_id)
        used = spent.get(department_id, 0)
        items.append(
            DepartmentSpend(
                fiscal_year=fiscal_year,
                department_id=department_id,
                budget=None if budget is None else from_fen(budget),
                spent=from_fen(used),
                remaining=None if budget is None else from_fen(budget - used),
            )
        )
    return SpendList(items=items)
