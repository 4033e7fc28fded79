"""Credit notes: after approval a statement never changes; a correction is a credit note against one of its lines.

All notes of a statement together never exceed its total: posting one locks the statement first, so two posted
at once are added up one after the other (PostgreSQL row lock; SQLite serializes writers), never both against
the same remainder.
"""

import uuid

from sqlmodel import Session, col, func, select

from billing.credit_notes.models import CreditNote, CreditNoteIn
from billing.statements import service as statements
from billing.statements.models import FROZEN, StatementLine
from opscenter.audit import service as audit
from opscenter.errors import Conflict, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.money import from_fen, to_fen
from opscenter.workflow import require_status


def post_credit_note(session: Session, statement_id: uuid.UUID, data: CreditNoteIn, *, actor: Actor) -> CreditNote:
    statement = statements.get_statement(session, statement_id, actor=actor, for_update=True)
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
    credited = session.exec(
        select(func.coalesce(func.sum(CreditNote.amount_fen), 0)).where(col(CreditNote.statement_id) == statement.id)
    ).one()
    if int(credited) + amount_fen > statement.amount_fen:
        raise Conflict(
            f"The statement's total is {from_fen(statement.amount_fen)} and {from_fen(int(credited))} is credited "
            f"already: at most {from_fen(statement.amount_fen - int(credited))} more can be."
        )
    note = CreditNote(
        statement_id=statement.id, line_no=data.line_no, amount_fen=amount_fen, reason=data.reason,
        created_by_id=actor.user_id,
    )  # fmt: skip
    session.add(note)
    audit.record_create(session, actor=actor, action="credit_note.create", row=note)
    session.flush()
    return note
