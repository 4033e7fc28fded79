"""Last month's statements in the demo: the operations center ran billing on the first of this month and issued
them; a department disputes a line of the first contract; the bureau approves the second and pays it, and
approves the third. A statement whose lines still lack SLA data (no Prometheus, or a prober's gap) cannot be
approved: it stays issued, as it would in life, until the data or a dispute's resolution settles it."""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from billing.statements import flows as statements
from billing.statements.disputes.models import DisputeIn
from billing.statements.models import Statement, StatementLine, StatementStatus
from billing.statements.runs import run_period
from contracts.agreements.models import Contract
from contracts.catalog.models import CatalogService
from opscenter.db import WithinTransaction
from opscenter.demo.cast import Cast
from opscenter.demo.province import (
    APPROVER,
    CONTRACT_PLANS,
    DEPARTMENTS,
    OPERATOR_USER,
    Calendar,
    contract_number,
    department_user,
)
from opscenter.errors import Conflict
from opscenter.timekeeping import replaying


@dataclass(frozen=True)
class StatementPlan:
    contract: int  # ContractPlan.number
    fate: str  # "disputed": issued with a department's dispute open; "approved"; "paid"


STATEMENT_PLANS = (StatementPlan(1, "disputed"), StatementPlan(2, "paid"), StatementPlan(3, "approved"))
_DISPUTER = DEPARTMENTS[1]  # 公安厅: its database was down for hours after a power failure in the machine room
_DISPUTE = "9日凌晨数据库宕机系机房市电中断所致，不属运营中心服务质量问题，申请复核可用率。"


def add_statements(session: Session, cast: Cast, calendar: Calendar) -> str:
    month = calendar.last_month
    first = calendar.this_month.first_day
    operator, bureau = cast[OPERATOR_USER], cast[APPROVER]
    with replaying(calendar.at(first, 9)):
        result = run_period(WithinTransaction(session), period=month, actor=operator)
    by_number = {
        number: statement
        for statement, number in session.exec(
            select(Statement, Contract.number)
            .join(Contract, col(Contract.id) == Statement.contract_id)
            .where(col(Statement.id).in_(result.statement_ids))
        ).all()
    }
    outcome = []
    for plan in STATEMENT_PLANS:
        number = contract_number(calendar, next(c for c in CONTRACT_PLANS if c.number == plan.contract))
        statement = by_number[number]
        with replaying(calendar.at(first + timedelta(days=1), 10)):
            statement = statements.issue(session, statement.id, actor=operator, expected_version=statement.version)
        if plan.fate == "disputed":
            with replaying(calendar.at(first + timedelta(days=2), 15)):
                _dispute(session, cast, statement)
        else:
            with replaying(calendar.at(first + timedelta(days=4), 11)):
                statement = _approve(session, statement, cast)
            if plan.fate == "paid" and statement.status == StatementStatus.APPROVED:
                with replaying(calendar.at(first + timedelta(days=9), 14)):
                    statement = statements.pay(
                        session,
                        statement.id,
                        actor=bureau,
                        expected_version=statement.version,
                        paid_on=calendar.at(first + timedelta(days=9)).date(),
                        reference=f"GK-{month.year}{month.month:02d}-{plan.contract:03d}",
                    )
        outcome.append(f"{number} {statement.status.value}")
    return f"statements for {month}: " + ", ".join(outcome)


def has_statements(session: Session, cast: Cast, calendar: Calendar) -> bool:
    period = str(calendar.last_month)
    return session.exec(select(Statement.id).where(Statement.period == period)).first() is not None


def _approve(session: Session, statement: Statement, cast: Cast) -> Statement:
    """The bureau approves; a statement with lines lacking SLA data is refused and stays issued."""
    try:
        with session.begin_nested():
            return statements.approve(session, statement.id, actor=cast[APPROVER], expected_version=statement.version)
    except Conflict:
        session.refresh(statement)
        return statement


def _dispute(session: Session, cast: Cast, statement: Statement) -> None:
    department = cast[department_user(_DISPUTER)]
    line_no = session.exec(
        select(StatementLine.line_no)
        .join(CatalogService, col(CatalogService.id) == StatementLine.service_id)
        .where(StatementLine.statement_id == statement.id, StatementLine.department_id == cast.department(_DISPUTER))
        .order_by(col(CatalogService.code).like("RDS-%").desc(), col(StatementLine.line_no))
    ).first()
    if line_no is not None:
        statements.open_dispute(session, statement.id, DisputeIn(line_no=line_no, reason=_DISPUTE), actor=department)
