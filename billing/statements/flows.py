"""A statement's lifecycle: draft → issued (operations center) → approved (bureau) → paid (bureau).

Each step locks the statement, checks the version the actor read (If-Match) and the state it starts from, and is
audited. Approval freezes the statement (on PostgreSQL a trigger refuses any later change to it or its lines,
payment aside) and closes the month's ratings of the contract; it is refused while a line lacks data, is pending,
or is disputed, and when it would take the contract over its ceiling.
"""

import uuid
from datetime import date

from sqlmodel import Session, col, select

from billing.disputes.models import Dispute, DisputeStatus
from billing.statements import service
from billing.statements.models import Statement, StatementLine, StatementStatus
from billing.statements.runs import approved_totals
from opscenter.audit import service as audit
from opscenter.errors import Conflict
from opscenter.identity.actor import Actor
from opscenter.money import from_fen
from opscenter.timekeeping import Period, utcnow
from opscenter.workflow import require_status
from sla.ratings import periods as rating_periods

APPROVED_NOTE = "月度结算单已批准"


def issue(session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Statement:
    """The operations center sends a draft to the bureau and the beneficiaries; runs leave it alone after this."""
    statement = _step(session, statement_id, actor=actor, expected_version=expected_version)
    require_status(statement.status, StatementStatus.DRAFT, doing="issue", noun="statement")
    with audit.change(session, actor=actor, action="statement.issue", row=statement):
        statement.status, statement.issued_at, statement.issued_by_id = StatementStatus.ISSUED, utcnow(), actor.user_id
    session.flush()
    return statement


def approve(session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Statement:
    statement = _step(session, statement_id, actor=actor, expected_version=expected_version)
    require_status(statement.status, StatementStatus.ISSUED, doing="approve", noun="statement")
    _require_settled(session, statement)
    billed = approved_totals(session, [statement.contract_id]).get(statement.contract_id, 0)
    if billed + statement.amount_fen > statement.ceiling_fen:
        raise Conflict(
            f"Approving it would bill the contract {from_fen(billed + statement.amount_fen)} in all, over its "
            f"ceiling of {from_fen(statement.ceiling_fen)}; correct the statement or amend the contract first."
        )
    with audit.change(session, actor=actor, action="statement.approve", row=statement):
        statement.status, statement.approved_at = StatementStatus.APPROVED, utcnow()
        statement.approved_by_id, statement.billed_before_fen, statement.over_ceiling = actor.user_id, billed, False
    session.flush()
    rating_periods.close_period(
        session,
        contract_id=statement.contract_id,
        period=Period.parse(statement.period),
        actor=actor,
        note=APPROVED_NOTE,
    )
    return statement


def pay(
    session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int, paid_on: date, reference: str
) -> Statement:
    statement = _step(session, statement_id, actor=actor, expected_version=expected_version)
    require_status(statement.status, StatementStatus.APPROVED, doing="record payment of", noun="statement")
    with audit.change(session, actor=actor, action="statement.pay", row=statement):
        statement.status, statement.paid_on, statement.payment_reference = StatementStatus.PAID, paid_on, reference
        statement.paid_at, statement.paid_by_id = utcnow(), actor.user_id
    session.flush()
    return statement


def _step(session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Statement:
    statement = service.get_statement(session, statement_id, actor=actor, for_update=True)
    statement.require_version(expected_version)
    return statement


def _require_settled(session: Session, statement: Statement) -> None:
    """Refuse (409, naming the lines) while a line lacks data, is pending, or is disputed."""
    unsettled = session.exec(
        select(StatementLine.line_no, StatementLine.insufficient_data, StatementLine.pending)
        .where(StatementLine.statement_id == statement.id)
        .where(col(StatementLine.insufficient_data) | col(StatementLine.pending))
        .order_by(col(StatementLine.line_no))
    ).all()
    disputed = session.exec(
        select(Dispute.line_no)
        .where(Dispute.statement_id == statement.id, Dispute.status == DisputeStatus.OPEN)
        .order_by(col(Dispute.line_no))
    ).all()
    reasons = [f"line {no} has insufficient SLA data" for no, lacking, _ in unsettled if lacking]
    reasons += [f"line {no} is pending its SLA report" for no, lacking, pending in unsettled if pending and not lacking]
    reasons += [f"line {no} is disputed" for no in sorted(set(disputed))]
    if reasons:
        raise Conflict(
            "Cannot approve: " + "; ".join(reasons) + ". Resolve them first (a dispute can set the availability)."
        )
