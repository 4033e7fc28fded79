"""Statements as records: reading them, and who sees what.

The bureau, auditors and the system see every statement; the operations center sees those it supplies; a
department sees the statements of contracts it benefits from, once issued, with only its own lines (and sums
over them). Anything else is 404, as if absent.
"""

import enum
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import exists, false, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from billing.statements.credit_notes import service as credit_notes
from billing.statements.credit_notes.models import CreditNotePublic
from billing.statements.disputes import service as disputes
from billing.statements.disputes.models import Dispute, DisputePublic, DisputeStatus
from billing.statements.models import (
    LineFlag,
    Statement,
    StatementDetail,
    StatementLine,
    StatementLinePublic,
    StatementPublic,
    StatementStatus,
)
from opscenter.errors import InvalidInput, NotFound
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.money import from_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.search import haystack, matches
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


def count_open_disputes(session: Session, *, actor: Actor) -> int:
    """Open disputes on the statements ``actor`` may see (one COUNT): what waits on the bureau to resolve."""
    visible = _scoped(select(Statement.id), actor)  # type: ignore[arg-type]
    query = select(func.count()).where(Dispute.status == DisputeStatus.OPEN, col(Dispute.statement_id).in_(visible))
    return session.exec(query).one()


def get_statement(session: Session, statement_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Statement:
    """A statement the actor may see. ``for_update`` locks it: every step on it, its disputes and its credit
    notes decides on the state it sees."""
    return get_visible(
        session, Statement, statement_id, actor=actor, scope=_scoped, noun="statement", for_update=for_update
    )


class StatementSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NUMBER = "number"  # by contract number, then newest first


_ORDERS = {
    StatementSort.NEWEST: (col(Statement.id).desc(),),
    StatementSort.OLDEST: (col(Statement.id),),
    StatementSort.NUMBER: (col(Statement.contract_number), col(Statement.id).desc()),
}
SEARCHED = haystack(col(Statement.contract_number), col(Statement.period), col(Statement.payment_reference))


def list_statements(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    period: Period | None = None,
    contract_id: uuid.UUID | None = None,
    status: Collection[StatementStatus] | None = None,
    q: str | None = None,
    sort: StatementSort = StatementSort.NEWEST,
) -> Slice[Statement]:
    """In the order ``sort`` says; ``q`` finds a part of the contract number, the period or the payment reference."""
    query = _scoped(select(Statement).order_by(*_ORDERS[sort]), actor)
    if q:
        query = query.where(matches(SEARCHED, q))
    if period is not None:
        query = query.where(Statement.period == str(period))
    if contract_id is not None:
        query = query.where(Statement.contract_id == contract_id)
    query = any_of(query, Statement.status, status)
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


def visible_line(session: Session, statement: Statement, line_no: int, *, actor: Actor) -> StatementLine:
    """Line ``line_no`` of the statement, if the actor sees it (a department: only its own lines); else refused
    naming ``line_no``."""
    query = select(StatementLine).where(StatementLine.statement_id == statement.id, StatementLine.line_no == line_no)
    if actor.is_department:
        query = query.where(StatementLine.department_id == actor.required_organization_id)
    line = session.exec(query).first()
    if line is None:
        raise InvalidInput("line_no", f"the statement has no line {line_no}")
    return line


def get_dispute(session: Session, dispute_id: uuid.UUID, *, actor: Actor) -> Dispute:
    """A dispute is visible to whoever sees its line; anything else is 404."""
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute")
    try:
        statement = get_statement(session, dispute.statement_id, actor=actor)
        visible_line(session, statement, dispute.line_no, actor=actor)
    except (NotFound, InvalidInput):
        raise NotFound("dispute") from None
    return dispute


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
    lines, raised = lines_of(session, ids, actor=actor), disputes.of_statements(session, ids)
    credited = credit_notes.credited_fen(session, ids)
    notes = credit_notes.of_statements(session, ids if with_lines else [])
    for statement in statements:
        own = lines[statement.id]
        visible_nos = {line.line_no for line in own}
        seen = [d for d in raised[statement.id] if not actor.is_department or d.line_no in visible_nos]
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
