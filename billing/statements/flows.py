"""A statement's lifecycle: draft → issued (operations center) → approved (bureau) → paid (bureau); and the steps
on its sub-rooms: a dispute of a line before approval, its resolution, a credit note after approval.

Each step locks the statement, checks the version the actor read (If-Match) and the state it starts from, and is
audited. Approval freezes the statement (on PostgreSQL a trigger refuses any later change to it or its lines,
payment aside) and closes the month's ratings of the contract; it is refused while a line lacks data, is pending,
or is disputed, and when it would take the contract over its ceiling.

The disputes and credit notes (``disputes/``, ``credit_notes/``) keep their own records and never read a
statement: the steps here hold the statement and call them, so the imports go one way, statements → sub-rooms.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from billing.statements import notices, restating, service
from billing.statements.credit_notes import service as credit_notes
from billing.statements.credit_notes.models import CreditNote, CreditNoteIn
from billing.statements.disputes import service as disputes
from billing.statements.disputes.models import Dispute, DisputeIn, DisputeOutcome, DisputeResolution, DisputeStatus
from billing.statements.lines import recompute
from billing.statements.models import FROZEN, Statement, StatementLine, StatementStatus
from billing.statements.runs import approved_totals
from opscenter.audit import service as audit
from opscenter.errors import Conflict, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.money import from_fen, to_fen
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.timekeeping import Period, utcnow
from opscenter.workflow import require_status, said
from sla.ratings import periods as rating_periods

APPROVED_NOTE = "月度结算单已批准"
BEFORE_APPROVAL = (StatementStatus.DRAFT, StatementStatus.ISSUED)


def issue(session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Statement:
    """The operations center sends a draft to the bureau and the beneficiaries; runs leave it alone after this."""
    statement = _step(session, statement_id, actor=actor, expected_version=expected_version)
    require_status(statement.status, StatementStatus.DRAFT, doing="issue", noun="statement")
    with audit.change(session, actor=actor, action="statement.issue", row=statement):
        statement.status, statement.issued_at, statement.issued_by_id = StatementStatus.ISSUED, utcnow(), actor.user_id
    notices.tell(session, statement, Notice.STATEMENT_ISSUED, actor=actor)
    session.flush()
    return statement


def approve(
    session: Session, statement_id: uuid.UUID, *, actor: Actor, expected_version: int, note: str = ""
) -> Statement:
    """Freeze an issued statement and close its month's ratings; the approver's ``note`` goes in its history."""
    statement = _step(session, statement_id, actor=actor, expected_version=expected_version)
    require_status(statement.status, StatementStatus.ISSUED, doing="approve", noun="statement")
    _require_settled(session, statement)
    billed = approved_totals(session, [statement.contract_id]).get(statement.contract_id, 0)
    if billed + statement.amount_fen > statement.ceiling_fen:
        raise Conflict(
            f"Approving it would bill the contract {from_fen(billed + statement.amount_fen)} in all, over its "
            f"ceiling of {from_fen(statement.ceiling_fen)}; correct the statement or amend the contract first."
        )
    with audit.change(session, actor=actor, action="statement.approve", row=statement, words=said(note=note)):
        statement.status, statement.approved_at = StatementStatus.APPROVED, utcnow()
        statement.approved_by_id, statement.billed_before_fen, statement.over_ceiling = actor.user_id, billed, False
    notices.tell(session, statement, Notice.STATEMENT_APPROVED, actor=actor)
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
    notices.tell(session, statement, Notice.STATEMENT_PAID, actor=actor)
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
    reasons = [f"line {no} has insufficient SLA data" for no, lacking, _ in unsettled if lacking]
    reasons += [f"line {no} is pending its SLA report" for no, lacking, pending in unsettled if pending and not lacking]
    reasons += [f"line {no} is disputed" for no in disputes.open_lines(session, statement.id)]
    if reasons:
        raise Conflict(
            "Cannot approve: " + "; ".join(reasons) + ". Resolve them first (a dispute can set the availability)."
        )


# ---- disputes: a line contested before approval, resolved by the bureau -------------------------------------------


def open_dispute(session: Session, statement_id: uuid.UUID, data: DisputeIn, *, actor: Actor) -> Dispute:
    """Contest one line of a statement not yet approved (a department: one of its own lines); one open dispute
    per line (409 naming it)."""
    statement = service.get_statement(session, statement_id, actor=actor, for_update=True)
    require_status(statement.status, *BEFORE_APPROVAL, doing="dispute", noun="statement")
    service.visible_line(session, statement, data.line_no, actor=actor)
    dispute = disputes.raise_dispute(
        session, statement_id=statement.id, line_no=data.line_no, reason=data.reason, actor=actor
    )
    notices.tell_dispute(session, statement, dispute, Notice.STATEMENT_DISPUTED, actor=actor)
    return dispute


def resolve_dispute(
    session: Session, dispute_id: uuid.UUID, data: DisputeResolution, *, actor: Actor, expected_version: int
) -> Dispute:
    """Settle an open dispute; a manual availability or score recomputes the line and the statement's sums."""
    dispute = service.get_dispute(session, dispute_id, actor=actor)
    statement = service.get_statement(session, dispute.statement_id, actor=actor, for_update=True)
    session.refresh(dispute, with_for_update=True)
    dispute.require_version(expected_version)
    require_status(dispute.status, DisputeStatus.OPEN, doing="resolve", noun="dispute")
    require_status(statement.status, *BEFORE_APPROVAL, doing="resolve a dispute of", noun="statement")
    line = service.visible_line(session, statement, dispute.line_no, actor=actor)
    disputes.settle(session, dispute, data, actor=actor)
    notices.tell_dispute(session, statement, dispute, Notice.DISPUTE_RESOLVED, actor=actor)
    if data.resolution != DisputeOutcome.ACCEPTED:
        score = None if data.score is None else Decimal(data.score)
        # Whatever the resolution moved (a score, a tier, the money) moves the statement's version on with it.
        with restating.lines_changing(session, statement, [line], actor=actor, action="statement.recompute"):
            recompute(line, availability=data.availability, score=score, note=data.reason)
    session.flush()
    return dispute


# ---- credit notes: corrections of an approved statement -----------------------------------------------------------


def post_credit_note(session: Session, statement_id: uuid.UUID, data: CreditNoteIn, *, actor: Actor) -> CreditNote:
    """A credit note against a line of an approved (or paid) statement; all its notes together never exceed the
    statement's total (409 naming what is left)."""
    statement = service.get_statement(session, statement_id, actor=actor, for_update=True)
    require_status(statement.status, *FROZEN, doing="credit", noun="statement")
    amount_fen = to_fen(data.amount)
    if amount_fen <= 0:
        raise InvalidInput("amount", "a credit note credits more than 0.00")
    line = session.exec(
        select(StatementLine.id).where(
            StatementLine.statement_id == statement.id, StatementLine.line_no == data.line_no
        )
    ).first()
    if line is None:
        raise InvalidInput("line_no", f"the statement has no line {data.line_no}")
    credited = credit_notes.credited_fen(session, [statement.id]).get(statement.id, 0)
    if credited + amount_fen > statement.amount_fen:
        raise Conflict(
            f"The statement's total is {from_fen(statement.amount_fen)} and {from_fen(credited)} is credited "
            f"already: at most {from_fen(statement.amount_fen - credited)} more can be."
        )
    note = credit_notes.record_note(
        session, statement_id=statement.id, line_no=data.line_no, amount_fen=amount_fen, reason=data.reason,
        actor=actor,
    )  # fmt: skip
    # What is payable changed: the statement's ETag changes too (the PostgreSQL freeze lets the version move alone).
    changes: dict[str, list[Any]] = {"credited_fen": [credited, credited + amount_fen]}
    restating.moved_on(session, statement, actor=actor, action="statement.credit", changes=changes)
    return note
