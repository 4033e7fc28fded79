"""Statements as records: reading them, and who sees what.

The bureau, auditors and the system see every statement; the operations center sees those it supplies; a
department sees the statements of contracts it benefits from, once issued, with only its own lines (and sums
over them). Anything else is 404, as if absent.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import exists, false, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from billing.credit_notes.models import CreditNote, CreditNotePublic
from billing.disputes.models import Dispute, DisputePublic, DisputeStatus
from billing.statements.models import (
    LineFlag,
    Statement,
    StatementDetail,
    StatementLine,
    StatementLinePublic,
    StatementPublic,
    StatementStatus,
)
from opscenter.errors import NotFound
from opscenter.identity.actor import Actor
from opscenter.money import from_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.timekeeping import Period

_HIDDEN_FROM_DEPARTMENTS = (StatementStatus.DRAFT,)


def _scoped(query: SelectOfScalar[Statement], actor: Actor) -> SelectOfScalar[Statement]:
    if actor.is_department:
        has_line = exists(
            select(StatementLine.id).where(
                StatementLine.statement_id == Statement.id,
                StatementLine.department_id == actor.required_organization_id,
            )
        )
        return query.where(has_line, col(Statement.status).not_in(_HIDDEN_FROM_DEPARTMENTS))
    if actor.is_operator:
        return query.where(Statement.supplier_id == actor.required_organization_id)
    if actor.sees_all:
        return query
    return query.where(false())


def get_statement(session: Session, statement_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Statement:
    """A statement the actor may see. ``for_update`` locks it: every step on it, its disputes and its credit
    notes decides on the state it sees."""
    query = _scoped(select(Statement).where(Statement.id == statement_id), actor)
    statement = session.exec(query.with_for_update() if for_update else query).first()
    if statement is None:
        raise NotFound("statement")
    return statement


def list_statements(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    period: Period | None = None,
    contract_id: uuid.UUID | None = None,
    status: StatementStatus | None = None,
) -> Slice[Statement]:
    query = _scoped(select(Statement).order_by(col(Statement.id).desc()), actor)
    if period is not None:
        query = query.where(Statement.period == str(period))
    if contract_id is not None:
        query = query.where(Statement.contract_id == contract_id)
    if status is not None:
        query = query.where(Statement.status == status)
    return keyset(session, query, page)


def lines_of(session: Session, statement_ids: list[uuid.UUID], *, actor: Actor) -> dict[uuid.UUID, list[StatementLine]]:
    """The lines the actor may see, per statement, in line order (one query)."""
    if not statement_ids:
        return {}
    query = select(StatementLine).where(col(StatementLine.statement_id).in_(statement_ids))
    if actor.is_department:
        query = query.where(StatementLine.department_id == actor.required_organization_id)
    found: dict[uuid.UUID, list[StatementLine]] = defaultdict(list)
    for line in session.exec(query.order_by(col(StatementLine.statement_id), col(StatementLine.line_no))):
        found[line.statement_id].append(line)
    return found


def credited_fen(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not statement_ids:
        return {}
    query = (
        select(CreditNote.statement_id, func.sum(CreditNote.amount_fen))
        .where(col(CreditNote.statement_id).in_(statement_ids))
        .group_by(col(CreditNote.statement_id))
    )
    return {statement_id: int(total or 0) for statement_id, total in session.exec(query).all()}


def _disputes(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Dispute]]:
    found: dict[uuid.UUID, list[Dispute]] = defaultdict(list)
    if statement_ids:
        query = select(Dispute).where(col(Dispute.statement_id).in_(statement_ids)).order_by(col(Dispute.id))
        for dispute in session.exec(query):
            found[dispute.statement_id].append(dispute)
    return found


def to_public(session: Session, statements: list[Statement], *, actor: Actor) -> list[StatementPublic]:
    """The list shapes, batched: a constant number of queries for a page."""
    return [
        StatementPublic.model_validate(full.model_dump(exclude={"lines", "disputes", "credit_notes"}))
        for full in _details(session, statements, actor=actor, with_lines=False)
    ]


def detail(session: Session, statement: Statement, *, actor: Actor) -> StatementDetail:
    return next(_details(session, [statement], actor=actor, with_lines=True))


def _details(
    session: Session, statements: list[Statement], *, actor: Actor, with_lines: bool
) -> Iterator[StatementDetail]:
    ids = [statement.id for statement in statements]
    lines, disputes, credited = lines_of(session, ids, actor=actor), _disputes(session, ids), credited_fen(session, ids)
    notes: dict[uuid.UUID, list[CreditNote]] = defaultdict(list)
    if with_lines and ids:
        for note in session.exec(
            select(CreditNote).where(col(CreditNote.statement_id).in_(ids)).order_by(col(CreditNote.id))
        ):
            notes[note.statement_id].append(note)
    for statement in statements:
        own = lines[statement.id]
        visible_nos = {line.line_no for line in own}
        seen = [d for d in disputes[statement.id] if not actor.is_department or d.line_no in visible_nos]
        open_lines = {d.line_no for d in seen if d.status == DisputeStatus.OPEN}
        partial = actor.is_department
        base = sum(line.base_fen for line in own) if partial else statement.base_fen
        deduction = sum(line.deduction_fen for line in own) if partial else statement.deduction_fen
        amount = sum(line.amount_fen for line in own) if partial else statement.amount_fen
        credit = sum(n.amount_fen for n in notes[statement.id] if n.line_no in visible_nos) if partial else None
        credit_fen = credit if credit is not None else credited.get(statement.id, 0)
        flags = sorted({flag for line in own for flag in line.flags}, key=list(LineFlag).index)
        yield StatementDetail(
            **statement.model_dump(
                include={
                    "id", "version", "created_at", "updated_at", "contract_id", "contract_number", "supplier_id",
                    "period", "status", "over_ceiling", "generated_at", "issued_at", "issued_by_id", "approved_at",
                    "approved_by_id", "paid_on", "payment_reference",
                }
            ),
            base=from_fen(base),
            deduction=from_fen(deduction),
            amount=from_fen(amount),
            credited=from_fen(credit_fen),
            payable=from_fen(amount - credit_fen),
            ceiling=from_fen(statement.ceiling_fen),
            billed_before=from_fen(statement.billed_before_fen),
            flags=flags,
            open_disputes=len(open_lines),
            lines=[StatementLinePublic.of(line, disputed=line.line_no in open_lines) for line in own]
            if with_lines
            else [],
            disputes=[DisputePublic.model_validate(d) for d in seen] if with_lines else [],
            credit_notes=[
                CreditNotePublic.model_validate(n, update={"amount": from_fen(n.amount_fen)})
                for n in notes[statement.id]
                if not partial or n.line_no in visible_nos
            ],
        )  # fmt: skip
