"""A statement stays true: whenever its lines change after the run wrote them (a dispute resolved by hand, a rating
written or revised while the month's statement is a draft or issued) or a credit note is posted against it, its
version moves on (so its ETag changes and a stale If-Match is refused) and one audit event says what moved.

DESIGN §6 lets a department revise its rating until the month's statement is approved, so a revision while the
statement is issued recomputes the line under the terms it was billed with, and the department is told. The
ratings domain sits below billing and cannot call it: the wiring registers ``ratings_followed`` with
``sla.ratings.followers`` instead.
"""

import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from billing.statements.lines import recompute
from billing.statements.models import Statement, StatementLine, StatementStatus
from opscenter.audit import service as audit
from opscenter.identity.actor import Actor
from opscenter.money import from_fen
from opscenter.notifications import service as notifications
from opscenter.notifications.models import NotificationKind
from opscenter.timekeeping import Period, utcnow
from sla.ratings import summary as ratings
from sla.ratings.followers import RatedMonth

OPEN = (StatementStatus.DRAFT, StatementStatus.ISSUED)
_FIGURES = ("score", "coefficient", "availability", "amount_fen")


def _figures(line: StatementLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in _FIGURES}


def _resum(session: Session, statement: Statement) -> None:
    lines = session.exec(select(StatementLine).where(StatementLine.statement_id == statement.id)).all()
    statement.base_fen = sum(line.base_fen for line in lines)
    statement.deduction_fen = sum(line.deduction_fen for line in lines)
    statement.amount_fen = sum(line.amount_fen for line in lines)
    statement.over_ceiling = statement.billed_before_fen + statement.amount_fen > statement.ceiling_fen


def moved_on(
    session: Session, statement: Statement, *, actor: Actor, action: str, changes: dict[str, list[Any]]
) -> None:
    """Give ``statement`` a new version (its ETag) and audit ``changes`` on it, in the caller's transaction."""
    # Stamping the row makes the ORM write it, and every write of a versioned row moves its version on.
    statement.updated_at = utcnow()
    session.flush()
    audit.append(session, actor=actor, action=action, row=statement, changes=changes)


@contextmanager
def lines_changing(
    session: Session, statement: Statement, lines: Sequence[StatementLine], *, actor: Actor, action: str
) -> Iterator[dict[str, list[Any]]]:
    """Around a change to ``lines`` of the locked ``statement``: afterwards the sums are recomputed, and if any
    line's figures moved, the statement gets a new version and one audit event naming each figure that moved
    (``lines.2.score``, ``amount_fen``). Yields that dict of changes (empty: nothing moved)."""
    before = {line.line_no: _figures(line) for line in lines}
    total_before = statement.amount_fen
    changes: dict[str, list[Any]] = {}
    yield changes
    _resum(session, statement)
    for line in lines:
        after = _figures(line)
        for name, value in after.items():
            if before[line.line_no][name] != value:
                changes[f"lines.{line.line_no}.{name}"] = [_plain(before[line.line_no][name]), _plain(value)]
    if total_before != statement.amount_fen:
        changes["amount_fen"] = [total_before, statement.amount_fen]
    if changes:
        moved_on(session, statement, actor=actor, action=action, changes=changes)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int) else format(value, "f")


@contextmanager
def ratings_followed(session: Session, rated: Collection[RatedMonth], *, actor: Actor) -> Iterator[None]:
    """Around a write of ratings: first lock the draft and issued statements whose lines bill those instances
    in those months (before the ratings' month is locked, the order approval takes too), then recompute their
    lines from the ratings as now written."""
    held = _held(session, rated)
    yield
    if not held:
        return
    instances_by_period: dict[str, set[uuid.UUID]] = {}
    for statement, lines in held:
        billed = {line.service_instance_id for line in lines if line.service_instance_id is not None}
        instances_by_period.setdefault(statement.period, set()).update(billed)
    scores = {
        period: ratings.instance_scores(session, service_instance_ids=instance_ids, period=Period.parse(period))
        for period, instance_ids in instances_by_period.items()
    }
    for statement, lines in held:
        with lines_changing(session, statement, lines, actor=actor, action="statement.rerate") as changes:
            for line in lines:
                assert line.service_instance_id is not None
                rated_now = scores[statement.period][line.service_instance_id]
                line.measured_score, line.ratings = rated_now.score, rated_now.ratings
                recompute(line, availability=None, score=None, note="")
        if changes:
            _tell(session, statement, lines, changes, actor=actor)


def _held(session: Session, rated: Collection[RatedMonth]) -> list[tuple[Statement, list[StatementLine]]]:
    """The open statements billing ``rated`` (locked, in id order) with those of their lines; two queries."""
    instance_ids = {instance_id for instance_id, _ in rated}
    periods = {period for _, period in rated}
    if not instance_ids:
        return []
    wanted = set(rated)
    statements = session.exec(
        _HELD_STATEMENTS, params={"periods": list(periods), "instance_ids": list(instance_ids)}
    ).all()
    if not statements:
        return []
    by_id = {statement.id: statement for statement in statements}
    lines: dict[uuid.UUID, list[StatementLine]] = {}
    for line in session.exec(_HELD_LINES, params={"statement_ids": list(by_id), "instance_ids": list(instance_ids)}):
        if (line.service_instance_id, by_id[line.statement_id].period) in wanted:
            lines.setdefault(line.statement_id, []).append(line)
    return [(statement, lines[statement.id]) for statement in statements if statement.id in lines]


# Built once, executed with parameters: every rating written asks the first (building it cost more than running it).
_HELD_STATEMENTS = (
    select(Statement)
    .where(col(Statement.period).in_(bindparam("periods", expanding=True)), col(Statement.status).in_(OPEN))
    .where(
        col(Statement.id).in_(
            select(StatementLine.statement_id).where(
                col(StatementLine.service_instance_id).in_(bindparam("instance_ids", expanding=True))
            )
        )
    )
    .order_by(col(Statement.id))
    .with_for_update()
)
_HELD_LINES = (
    select(StatementLine)
    .where(
        col(StatementLine.statement_id).in_(bindparam("statement_ids", expanding=True)),
        col(StatementLine.service_instance_id).in_(bindparam("instance_ids", expanding=True)),
    )
    .order_by(col(StatementLine.line_no))
)


def _tell(
    session: Session,
    statement: Statement,
    lines: Sequence[StatementLine],
    changes: dict[str, list[Any]],
    *,
    actor: Actor,
) -> None:
    """The departments whose lines moved hear of it (the bureau reads it in the statement's history)."""
    moved = [line for line in lines if any(key.startswith(f"lines.{line.line_no}.") for key in changes)]
    for department_id in sorted({line.department_id for line in moved}):
        theirs = [line for line in moved if line.department_id == department_id]
        body = "；".join(
            f"第 {line.line_no} 行评分 {_shown(changes.get(f'lines.{line.line_no}.score', [None, line.score])[1])}，"
            f"金额 {from_fen(line.amount_fen)} 元"
            for line in theirs
        )
        notifications.notify(
            session,
            actor=actor,
            organization_ids=[department_id],
            kind=NotificationKind.STATEMENT_RESTATED,
            title=f"结算单 {statement.contract_number} {statement.period} 已按评价重算",
            body=f"评价修改后重算：{body}。结算单现为第 {statement.version} 版。"[:2000],
            object_type="statement",
            object_id=statement.id,
            dedupe_key=f"statement.rerate:{statement.id}:{statement.version}",
        )


def _shown(value: Any) -> str:
    return "未评价" if value is None else str(value)
