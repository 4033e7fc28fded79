"""Disputes (申诉): a beneficiary department or the bureau contests a line before approval; the bureau resolves
it, accepting the line as billed or setting its availability or score by hand, and the line is recomputed.

A dispute is visible to whoever sees its line (billing/statements/service.py); anything else is 404.
"""

import uuid
from typing import Any

from sqlmodel import Session, select

from billing.disputes.models import Dispute, DisputeIn, DisputeResolution, DisputeStatus, Resolution
from billing.statements import service as statements
from billing.statements.lines import recompute
from billing.statements.models import Statement, StatementLine, StatementStatus
from opscenter.audit import service as audit
from opscenter.errors import Conflict, InvalidInput, NotFound
from opscenter.identity.actor import Actor
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status

BEFORE_APPROVAL = (StatementStatus.DRAFT, StatementStatus.ISSUED)


def open_dispute(session: Session, statement_id: uuid.UUID, data: DisputeIn, *, actor: Actor) -> Dispute:
    """Contest one line of a statement not yet approved; one open dispute per line (409 naming it)."""
    statement = statements.get_statement(session, statement_id, actor=actor, for_update=True)
    require_status(statement.status, *BEFORE_APPROVAL, doing="dispute", noun="statement")
    _line(session, statement, data.line_no, actor=actor)
    existing = session.exec(
        select(Dispute.id).where(
            Dispute.statement_id == statement.id, Dispute.line_no == data.line_no, Dispute.status == DisputeStatus.OPEN
        )
    ).first()
    if existing is not None:
        raise Conflict(f"Line {data.line_no} is already disputed: dispute {existing}, not yet resolved.")
    dispute = Dispute(
        statement_id=statement.id,
        line_no=data.line_no,
        raised_by_org_id=actor.required_organization_id,
        raised_by_id=actor.user_id,
        reason=data.reason,
    )
    session.add(dispute)
    audit.record_create(session, actor=actor, action="dispute.open", row=dispute)
    session.flush()
    return dispute


def get_dispute(session: Session, dispute_id: uuid.UUID, *, actor: Actor) -> Dispute:
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute")
    try:
        statement = statements.get_statement(session, dispute.statement_id, actor=actor)
        _line(session, statement, dispute.line_no, actor=actor)
    except (NotFound, InvalidInput):
        raise NotFound("dispute") from None
    return dispute


def resolve(
    session: Session, dispute_id: uuid.UUID, data: DisputeResolution, *, actor: Actor, expected_version: int
) -> Dispute:
    """Settle an open dispute; a manual availability or score recomputes the line and the statement's sums."""
    dispute = get_dispute(session, dispute_id, actor=actor)
    statement = statements.get_statement(session, dispute.statement_id, actor=actor, for_update=True)
    session.refresh(dispute, with_for_update=True)
    dispute.require_version(expected_version)
    require_status(dispute.status, DisputeStatus.OPEN, doing="resolve", noun="dispute")
    require_status(statement.status, *BEFORE_APPROVAL, doing="resolve a dispute of", noun="statement")
    line = _line(session, statement, dispute.line_no, actor=actor)
    before = {"line_amount_fen": line.amount_fen, "statement_amount_fen": statement.amount_fen}
    manual = data.availability if data.resolution == Resolution.MANUAL_AVAILABILITY else data.score
    with audit.change(session, actor=actor, action="dispute.resolve", row=dispute):
        dispute.status, dispute.resolution, dispute.resolution_reason = (
            DisputeStatus.RESOLVED,
            data.resolution,
            data.reason,
        )
        dispute.manual_value = None if manual is None else format(manual, "f")
        dispute.resolved_by_id, dispute.resolved_at = actor.user_id, utcnow()
        if data.resolution != Resolution.ACCEPTED:
            recompute(line, availability=data.availability, score=data.score, note=data.reason)
            _resum(session, statement)
    after = {"line_amount_fen": line.amount_fen, "statement_amount_fen": statement.amount_fen}
    session.flush()
    if after != before:  # the money moved: say so on the statement's own history as well
        changes: dict[str, list[Any]] = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
        audit.append(session, actor=actor, action="statement.recompute", row=statement, changes=changes)
    return dispute


def _line(session: Session, statement: Statement, line_no: int, *, actor: Actor) -> StatementLine:
    query = select(StatementLine).where(StatementLine.statement_id == statement.id, StatementLine.line_no == line_no)
    if actor.is_department:
        query = query.where(StatementLine.department_id == actor.required_organization_id)
    line = session.exec(query).first()
    if line is None:
        raise InvalidInput("line_no", f"the statement has no line {line_no}")
    return line


def _resum(session: Session, statement: Statement) -> None:
    lines = session.exec(select(StatementLine).where(StatementLine.statement_id == statement.id)).all()
    statement.base_fen = sum(line.base_fen for line in lines)
    statement.deduction_fen = sum(line.deduction_fen for line in lines)
    statement.amount_fen = sum(line.amount_fen for line in lines)
    statement.over_ceiling = statement.billed_before_fen + statement.amount_fen > statement.ceiling_fen
