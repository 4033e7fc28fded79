"""What a statement's steps tell people (DESIGN §9): one call per step, into the outbox. No amounts: a statement
spans several departments, and a department may see only its own lines."""

from sqlmodel import Session, col, select

from billing.statements.disputes.models import Dispute
from billing.statements.models import Statement, StatementLine
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K


def tell(session: Session, statement: Statement, kind: K, *, actor: Actor) -> None:
    departments = session.exec(
        select(StatementLine.department_id).where(StatementLine.statement_id == statement.id).distinct()
    ).all()
    outbox.emit(
        session,
        kind=kind,
        subject=statement,
        title=f"{kind.label}：合同 {statement.contract_number} {statement.period}",
        body=f"合同 {statement.contract_number} {statement.period} 月度结算单：{kind.label}。",
        department_ids=departments,
        payload={"statement_id": statement.id, "period": statement.period, "status": statement.status.value},
        actor=actor,
    )


def tell_dispute(session: Session, statement: Statement, dispute: Dispute, kind: K, *, actor: Actor) -> None:
    """A dispute of one line concerns the department of that line only."""
    department = session.exec(
        select(col(StatementLine.department_id)).where(
            StatementLine.statement_id == statement.id, StatementLine.line_no == dispute.line_no
        )
    ).first()
    outbox.emit(
        session,
        kind=kind,
        subject=dispute,
        title=f"{kind.label}：合同 {statement.contract_number} {statement.period} 第 {dispute.line_no} 行",
        body=f"合同 {statement.contract_number} {statement.period} 结算单第 {dispute.line_no} 行：{kind.label}。",
        department_ids=[department],
        payload={"statement_id": statement.id, "dispute_id": dispute.id, "line_no": dispute.line_no},
        actor=actor,
    )
