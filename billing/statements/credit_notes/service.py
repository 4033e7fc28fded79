"""Credit notes as records: after approval a statement never changes; a correction is a credit note against one
of its lines.

This room never reads statements: posting one (billing/statements/flows.py) locks the statement first, checks
its state, its line and what is left to credit, then writes the note here. All notes of a statement together
never exceed its total: two posted at once are added up one after the other under that lock (PostgreSQL row
lock; SQLite serializes writers), never both against the same remainder.
"""

import uuid
from collections import defaultdict

from sqlmodel import Session, col, func, select

from billing.statements.credit_notes.models import CreditNote
from opscenter.audit import service as audit
from opscenter.identity.actor import Actor


def record_note(
    session: Session, *, statement_id: uuid.UUID, line_no: int, amount_fen: int, reason: str, actor: Actor
) -> CreditNote:
    note = CreditNote(
        statement_id=statement_id, line_no=line_no, amount_fen=amount_fen, reason=reason, created_by_id=actor.user_id
    )
    session.add(note)
    audit.record_create(session, actor=actor, action="credit_note.create", row=note)
    session.flush()
    return note


def credited_fen(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What the notes of each statement credit together, fen (statements without a note are absent)."""
    if not statement_ids:
        return {}
    query = (
        select(CreditNote.statement_id, func.sum(CreditNote.amount_fen))
        .where(col(CreditNote.statement_id).in_(statement_ids))
        .group_by(col(CreditNote.statement_id))
    )
    return {statement_id: int(total or 0) for statement_id, total in session.exec(query).all()}


def of_statements(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CreditNote]]:
    """Every note of each statement, oldest first (one query)."""
    notes: dict[uuid.UUID, list[CreditNote]] = defaultdict(list)
    if statement_ids:
        query = select(CreditNote).where(col(CreditNote.statement_id).in_(statement_ids)).order_by(col(CreditNote.id))
        for note in session.exec(query):
            notes[note.statement_id].append(note)
    return notes
