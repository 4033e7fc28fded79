"""The billing run: one draft statement per contract in force in the period, one line per contract line.

Idempotent by the unique (contract, period): a second run, sequential or concurrent, refreshes drafts and leaves
issued, approved and paid statements alone. Concurrent runs on PostgreSQL meet at the unique key (the loser's
insert waits for the winner's transaction, then skips) and at the statements' row locks, taken in one query;
SQLite serializes write transactions anyway.

Written for volume: inputs in a constant number of queries (billing/statements/inputs.py), statements and lines inserted
in batches through Core, one audit event per statement created or changed and one for the run.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from billing.statements.credit_notes.models import CreditNote
from billing.statements.disputes import service as disputes
from billing.statements.inputs import PeriodInputs, Sources, gather
from billing.statements.lines import line_values, override
from billing.statements.models import FROZEN, BillingRun, Statement, StatementLine, StatementStatus
from opscenter.audit import service as audit
from opscenter.db import Transactions, core_table, new_id
from opscenter.errors import InvalidInput, NotFound
from opscenter.identity.actor import Actor
from opscenter.timekeeping import Period, today, utcnow

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called as a run advances through its phases — ``inputs``, ``compute``, then
``lines`` and ``audit`` for each step of contracts written — each ending with ``done == total``, so a caller can
draw it or time it."""

BATCH = 1000
# Contracts per write transaction: ten lines each make about 0.06 s on SQLite (bench/billing_run.py), the longest a
# request's write waits behind the run.
STEP = 100
T = TypeVar("T")


@dataclass
class RunResult:
    run: BillingRun
    statement_ids: list[uuid.UUID]


def _quiet(phase: str, done: int, total: int) -> None:
    return None


def billable(period: Period) -> None:
    """A month is billed once it has ended (Asia/Shanghai); refuse earlier, naming the field."""
    if period.next().first_day > today():
        raise InvalidInput("period", f"{period} has not ended yet (Asia/Shanghai); bill it from {period.next()}-01")


def run(
    db: Transactions,
    *,
    period: Period,
    actor: Actor,
    sources: Sources,
    now: datetime | None = None,
    progress: Progress = _quiet,
) -> RunResult:
    """Generate or refresh the period's draft statements.

    The inputs are read in one read transaction and the lines computed with none open; then the statements are
    written ``STEP`` contracts to a write transaction (each with its statements' audit events, and the run's counts
    so far), and the run's own audit event closes the last. A run stopped between two of them has written whole
    statements only: a second run refreshes those and writes the rest. Given ``WithinTransaction(session)`` it all
    happens in that one transaction (an API request)."""
    billable(period)
    started = utcnow()
    progress("inputs", 0, 1)
    with db.transaction(write=False) as session:
        inputs = gather(session, period=period, sources=sources, now=now or started)
    progress("inputs", 1, 1)

    # Every line's figures first (pure computation), keyed by contract; the statement ids follow once locked.
    by_contract: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for done, line in enumerate(inputs.lines, start=1):
        by_contract[line.contract_id].append(line_values(inputs, line, statement_id=None, line_id=new_id()))
        if done % BATCH == 0:
            progress("compute", done, len(inputs.lines))
    progress("compute", len(inputs.lines), len(inputs.lines))
    contract_ids = sorted(by_contract)
    run_row = BillingRun(
        id=new_id(),
        period=str(period),
        requested_by_id=actor.user_id,
        requested_by=actor.user_name[:200],
        started_at=started,
        finished_at=started,
        contracts=len(contract_ids),
        lines=len(inputs.lines),
    )

    written = _Written()
    steps = list(_chunks(contract_ids, STEP)) or [[]]
    for number, step in enumerate(steps, start=1):
        with db.transaction(write=True) as session:
            if number == 1:
                session.add(run_row)
                session.flush()
            else:
                run_row = session.merge(run_row, load=False)
            _write(
                session, inputs, {contract_id: by_contract[contract_id] for contract_id in step}, run_row.id,
                started, actor, written, progress,
            )  # fmt: skip
            # the run's row says what it has done so far, also of a run that never finishes
            run_row.created, run_row.refreshed, run_row.kept = written.created, written.refreshed, written.kept
            run_row.finished_at = utcnow()
            if number == len(steps):
                audit.record_create(session, actor=actor, action="billing_run.complete", row=run_row)
            session.flush()
        progress("audit", number, len(steps))
    return RunResult(run_row, written.statement_ids)


@dataclass
class _Written:
    """What the run's steps wrote so far."""

    created: int = 0
    refreshed: int = 0
    kept: int = 0
    lines: int = 0
    statement_ids: list[uuid.UUID] = field(default_factory=list)


def _write(
    session: Session,
    inputs: PeriodInputs,
    by_contract: dict[uuid.UUID, list[dict[str, Any]]],
    run_id: uuid.UUID,
    started: datetime,
    actor: Actor,
    written: _Written,
    progress: Progress,
) -> None:
    """One step: the statements of ``by_contract``'s contracts, created or refreshed, with their lines, totals and
    audit events, in the caller's transaction."""
    if not by_contract:
        return
    period = inputs.period
    contract_ids = sorted(by_contract)
    fresh = {contract_id: new_id() for contract_id in contract_ids}
    _insert_new(session, inputs, fresh, run_id, started)
    rows = _locked(session, period, contract_ids)
    created = {row.id for row in rows if fresh.get(row.contract_id) == row.id}
    drafts = [row for row in rows if row.status == StatementStatus.DRAFT]
    kept = [row for row in rows if row.status != StatementStatus.DRAFT]
    refreshed = [row for row in drafts if row.id not in created]
    overrides = disputes.manual_values(session, [row.id for row in refreshed], batch=BATCH)
    old = _old_totals(session, [row.id for row in refreshed])
    _delete_lines(session, [row.id for row in refreshed])
    totals: dict[uuid.UUID, dict[str, int]] = {}
    batch: list[dict[str, Any]] = []
    for row in drafts:
        sums = totals.setdefault(row.id, {"base_fen": 0, "deduction_fen": 0, "amount_fen": 0})
        for values in by_contract.get(row.contract_id, []):
            values["statement_id"] = row.id
            manual = overrides.get((row.id, values["line_no"]))
            if manual:
                values = override(values, **manual)
            for name in sums:
                sums[name] += values[name]
            batch.append(values)
            if len(batch) >= BATCH:
                written.lines += _insert_lines(session, batch)
                batch = []
                progress("lines", written.lines, len(inputs.lines))
    written.lines += _insert_lines(session, batch)
    progress("lines", written.lines, len(inputs.lines))
    ceilings = _ceilings(session, inputs, [row.contract_id for row in drafts], period)
    _update_totals(session, drafts, totals, ceilings, inputs, run_id, started, created)

    subject = Statement(id=new_id(), contract_id=new_id(), contract_number="", supplier_id=new_id(), period=str(period))
    with session.no_autoflush:
        for row in drafts:
            after: dict[str, Any] = {**totals[row.id], "over_ceiling": ceilings[row.contract_id][1]}
            # The rows were written through Core; an event names its object by type and id only, so one detached
            # stand-in serves for all (building a model per statement costs more than the event).
            subject.id = row.id
            if row.id in created:
                changes: dict[str, list[Any]] = {
                    "contract_id": [None, str(row.contract_id)],
                    "period": [None, str(period)],
                }
                changes.update({name: [None, value] for name, value in after.items()})
                audit.append(session, actor=actor, action="statement.generate", row=subject, changes=changes)
            elif old.get(row.id) != after:
                before = old.get(row.id, {})
                changes = {
                    name: [before.get(name), value] for name, value in after.items() if before.get(name) != value
                }
                audit.append(session, actor=actor, action="statement.refresh", row=subject, changes=changes)
    written.created += len(created)
    written.refreshed += len(refreshed)
    written.kept += len(kept)
    written.statement_ids.extend(row.id for row in rows)


def _chunks(items: list[T], size: int = BATCH) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_new(
    session: Session, inputs: PeriodInputs, fresh: dict[uuid.UUID, uuid.UUID], run_id: uuid.UUID, now: datetime
) -> None:
    """A draft for every contract that has no statement for the period yet (totals follow once lines exist)."""
    table = core_table(Statement)
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing(
        index_elements=["contract_id", "period"]
    )
    rows = []
    for contract_id, statement_id in fresh.items():
        facts = inputs.contracts[contract_id]
        rows.append(
            {
                "id": statement_id,
                "contract_id": contract_id,
                "contract_number": facts.number,
                "supplier_id": facts.supplier_id,
                "period": str(inputs.period),
                "status": StatementStatus.DRAFT.value,
                "base_fen": 0,
                "deduction_fen": 0,
                "amount_fen": 0,
                "ceiling_fen": facts.ceiling_fen,
                "billed_before_fen": 0,
                "over_ceiling": False,
                "run_id": run_id,
                "generated_at": now,
                "payment_reference": "",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    for chunk in _chunks(rows):
        session.execute(statement, chunk)


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    contract_id: uuid.UUID
    status: StatementStatus
    version: int


def _locked(session: Session, period: Period, contract_ids: list[uuid.UUID]) -> list[_Row]:
    """The period's statements of these contracts (one step's: ``STEP`` at most), locked in id order, so runs never
    wait crosswise."""
    table = core_table(Statement)
    query = (
        select(table.c.id, table.c.contract_id, table.c.status, table.c.version)
        .where(table.c.period == str(period), table.c.contract_id.in_(contract_ids))
        .order_by(table.c.id)
        .with_for_update()
    )
    return [
        _Row(row.id, row.contract_id, StatementStatus(row.status), row.version)
        for row in session.connection().execute(query)
    ]


def _old_totals(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    table = core_table(Statement)
    old = {}
    for chunk in _chunks(statement_ids):
        query = select(table.c.id, table.c.base_fen, table.c.deduction_fen, table.c.amount_fen, table.c.over_ceiling)
        for row in session.connection().execute(query.where(table.c.id.in_(chunk))):
            old[row.id] = {
                "base_fen": row.base_fen,
                "deduction_fen": row.deduction_fen,
                "amount_fen": row.amount_fen,
                "over_ceiling": row.over_ceiling,
            }
    return old


def _delete_lines(session: Session, statement_ids: list[uuid.UUID]) -> None:
    table = core_table(StatementLine)
    for chunk in _chunks(statement_ids):
        session.execute(delete(table).where(table.c.statement_id.in_(chunk)))


def _insert_lines(session: Session, batch: list[dict[str, Any]]) -> int:
    if batch:
        session.execute(insert(core_table(StatementLine)), batch)
    return len(batch)


def _ceilings(
    session: Session, inputs: PeriodInputs, contract_ids: Iterable[uuid.UUID], period: Period
) -> dict[uuid.UUID, tuple[int, bool]]:
    """Per contract: (what its approved statements of other months come to, net of credit notes, and whether
    this month would take it over the ceiling) — filled in by ``_update_totals``."""
    billed = approved_totals(session, list(contract_ids), excluding=period)
    return {contract_id: (billed.get(contract_id, 0), False) for contract_id in contract_ids}


def approved_totals(
    session: Session, contract_ids: list[uuid.UUID], *, excluding: Period | None = None
) -> dict[uuid.UUID, int]:
    """What each contract's approved and paid statements come to, net of their credit notes (fen)."""
    statements, notes = core_table(Statement), core_table(CreditNote)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for chunk in _chunks(contract_ids):
        frozen = [status.value for status in FROZEN]
        where: list[ColumnElement[bool]] = [statements.c.contract_id.in_(chunk), statements.c.status.in_(frozen)]
        if excluding is not None:
            where.append(statements.c.period != str(excluding))
        billed = select(statements.c.contract_id, func.sum(statements.c.amount_fen)).where(*where)
        for contract_id, amount in session.connection().execute(billed.group_by(statements.c.contract_id)):
            totals[contract_id] += int(amount or 0)
        credited = (
            select(statements.c.contract_id, func.sum(notes.c.amount_fen))
            .join(statements, statements.c.id == notes.c.statement_id)
            .where(*where)
            .group_by(statements.c.contract_id)
        )
        for contract_id, amount in session.connection().execute(credited):
            totals[contract_id] -= int(amount or 0)
    return totals


def _update_totals(
    session: Session,
    drafts: list[_Row],
    totals: dict[uuid.UUID, dict[str, int]],
    ceilings: dict[uuid.UUID, tuple[int, bool]],
    inputs: PeriodInputs,
    run_id: uuid.UUID,
    now: datetime,
    created: set[uuid.UUID],
) -> None:
    table = core_table(Statement)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            base_fen=bindparam("b_base"),
            deduction_fen=bindparam("b_deduction"),
            amount_fen=bindparam("b_amount"),
            ceiling_fen=bindparam("b_ceiling"),
            billed_before_fen=bindparam("b_before"),
            over_ceiling=bindparam("b_over"),
            run_id=bindparam("b_run"),
            generated_at=bindparam("b_now"),
            updated_at=bindparam("b_now"),
            version=bindparam("b_version"),
        )
    )
    rows = []
    for row in drafts:
        ceiling = inputs.contracts[row.contract_id].ceiling_fen
        before = ceilings[row.contract_id][0]
        over = before + totals[row.id]["amount_fen"] > ceiling
        ceilings[row.contract_id] = (before, over)
        rows.append(
            {
                "b_id": row.id,
                "b_base": totals[row.id]["base_fen"],
                "b_deduction": totals[row.id]["deduction_fen"],
                "b_amount": totals[row.id]["amount_fen"],
                "b_ceiling": ceiling,
                "b_before": before,
                "b_over": over,
                "b_run": run_id,
                "b_now": now,
                # a new draft stays at version 1; a refreshed one moves on, so a stale If-Match is refused
                "b_version": row.version if row.id in created else row.version + 1,
            }
        )
    for chunk in _chunks(rows):
        session.execute(statement, chunk)


def run_period(
    db: Transactions, *, period: Period, actor: Actor, now: datetime | None = None, progress: Progress = _quiet
) -> RunResult:
    """The run with the real SLA reports and ticket breaches (what the API, the CLI and the job call)."""
    from billing.statements import inputs  # read at call time: the sources are one module attribute

    return run(db, period=period, actor=actor, sources=inputs.SOURCES, now=now, progress=progress)


def get_run(session: Session, run_id: uuid.UUID) -> BillingRun:
    found = session.get(BillingRun, run_id)
    if found is None:
        raise NotFound("billing run")
    return found
