"""Rating periods: a contract's month stays open for ratings and revisions until it is closed, by the
bureau now, or by billing when the month's statement is approved. Closed is final.

Every rating write holds its period row with a shared lock (PostgreSQL ``FOR SHARE``; SQLite write
transactions are serialized anyway), and closing takes it exclusively, so no rating slips in while a
period closes: a rating either commits before the close or sees the period closed.
"""

import uuid
from collections.abc import Collection, Iterable

from sqlalchemy import bindparam, exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.instances.models import ServiceInstance
from opscenter.audit import service as audit
from opscenter.db import core_table, insert_or_skip, new_id
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.timekeeping import Period, utcnow
from opscenter.workflow import require_status
from sla.ratings.models import RatingPeriod, RatingPeriodStatus

BY_THE_BUREAU = "由管理局关闭"


def _scoped(query: SelectOfScalar[RatingPeriod], actor: Actor) -> SelectOfScalar[RatingPeriod]:
    """A department sees the periods of contracts it has instances under; the others see all."""
    if not actor.is_department:
        return query
    return query.where(
        exists(
            select(ServiceInstance.id).where(
                ServiceInstance.contract_id == RatingPeriod.contract_id,
                ServiceInstance.department_id == actor.required_organization_id,
            )
        )
    )


def get_period(session: Session, period_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> RatingPeriod:
    return get_visible(
        session, RatingPeriod, period_id, actor=actor, scope=_scoped, noun="rating period", for_update=for_update
    )


def list_periods(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    contract_id: uuid.UUID | None = None,
    period: Period | None = None,
    status: Collection[RatingPeriodStatus] | None = None,
) -> Slice[RatingPeriod]:
    query = _scoped(select(RatingPeriod).order_by(col(RatingPeriod.id).desc()), actor)
    if contract_id is not None:
        query = query.where(RatingPeriod.contract_id == contract_id)
    if period is not None:
        query = query.where(RatingPeriod.period == str(period))
    query = any_of(query, RatingPeriod.status, status)
    return keyset(session, query, page)


def hold_open(session: Session, keys: Iterable[tuple[uuid.UUID, str]], *, actor: Actor) -> set[tuple[uuid.UUID, str]]:
    """Hold the periods of these (contract, month) pairs against closing until the transaction ends, creating
    open ones where missing; returns the pairs that are closed, which the caller must refuse to rate into.

    Pairs are taken in sorted order, so two writers never wait for each other's rows crosswise.
    """
    closed = set()
    for contract_id, period in sorted(set(keys)):
        # The usual case, one Core statement: the period exists; read its status under a shared lock.
        status = session.connection().execute(_STATUS_HELD, {"contract_id": contract_id, "period": period}).scalar()
        if status is None:
            row, created = _ensure(session, contract_id, period, lock_read=True)
            if created:
                audit.record_create(session, actor=actor, action="rating_period.open", row=row)
            status = row.status
        if status == RatingPeriodStatus.CLOSED:
            closed.add((contract_id, period))
    return closed


_PERIODS = core_table(RatingPeriod)
_STATUS_HELD = (
    sa_select(_PERIODS.c.status)
    .where(_PERIODS.c.contract_id == bindparam("contract_id"), _PERIODS.c.period == bindparam("period"))
    .with_for_update(read=True)
)


def close(session: Session, period_id: uuid.UUID, *, actor: Actor, expected_version: int) -> RatingPeriod:
    """The bureau closes a contract's month: no rating of it is written or revised any more."""
    row = get_period(session, period_id, actor=actor, for_update=True)
    row.require_version(expected_version)
    require_status(row.status, RatingPeriodStatus.OPEN, doing="close", noun="rating period")
    _close(session, row, actor=actor, note=BY_THE_BUREAU)
    return row


def close_period(
    session: Session, *, contract_id: uuid.UUID, period: Period, actor: Actor, note: str = "月度结算单已批准"
) -> RatingPeriod:
    """Close a contract's month for ratings (billing calls this when it approves the month's statement).

    Idempotent: a period already closed is returned as it is. Creates the period when nobody rated yet,
    so that nobody can any more. Waits for ratings being written into it to commit first.
    """
    row, created = _ensure(session, contract_id, str(period), lock_read=False)
    if created:
        audit.record_create(session, actor=actor, action="rating_period.open", row=row)
    if row.status != RatingPeriodStatus.CLOSED:
        _close(session, row, actor=actor, note=note)
    return row


def _close(session: Session, row: RatingPeriod, *, actor: Actor, note: str) -> None:
    with audit.change(session, actor=actor, action="rating_period.close", row=row):
        row.status, row.closed_at, row.closed_by_id = RatingPeriodStatus.CLOSED, utcnow(), actor.user_id
        row.closed_note = note[:200]
    session.flush()


def _ensure(session: Session, contract_id: uuid.UUID, period: str, *, lock_read: bool) -> tuple[RatingPeriod, bool]:
    """The row, inserted open if missing (a racing insert waits, then finds it), and locked: shared for
    rating writers, exclusive for closing. Returns whether this call created it."""
    query = select(RatingPeriod).where(RatingPeriod.contract_id == contract_id, RatingPeriod.period == period)
    existing = session.exec(query.with_for_update(read=lock_read)).first()
    if existing is not None:  # the usual case: one statement
        return existing, False
    now = utcnow()
    values = {
        "id": new_id(),
        "contract_id": contract_id,
        "period": period,
        "status": RatingPeriodStatus.OPEN.value,
        "closed_note": "",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    created = insert_or_skip(session, RatingPeriod, values, unique=("contract_id", "period")) is not None
    row = session.exec(query.with_for_update(read=lock_read)).one()
    return row, created
