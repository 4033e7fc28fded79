"""Reading measurements, and the window arithmetic both the pull (pull.py, which writes them) and the monthly
reports use: a measured window with approved maintenance cut out."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from monitoring.promql import Window
from opscenter.db import core_table
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from sla.measurements.models import Measurement


def _scoped(query: SelectOfScalar[Measurement], actor: Actor) -> SelectOfScalar[Measurement]:
    """A department sees the measurements of its own instances; the others all."""
    return query.where(Measurement.department_id == actor.required_organization_id) if actor.is_department else query


def list_measurements(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    service_instance_id: uuid.UUID | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> Slice[Measurement]:
    """Oldest day first; ``first_day``/``last_day`` inclusive (``to`` before ``from``: an empty page)."""
    query = _scoped(select(Measurement).order_by(col(Measurement.day), col(Measurement.id)), actor)
    if service_instance_id is not None:
        query = query.where(Measurement.service_instance_id == service_instance_id)
    if first_day is not None:
        query = query.where(Measurement.day >= first_day)
    if last_day is not None:
        query = query.where(Measurement.day <= last_day)
    return keyset(session, query, page)


@dataclass(frozen=True)
class MonthTotals:
    """An instance's measured days within a range, summed."""

    days: int
    first_day: date
    last_day: date
    up_samples: int
    samples: int
    expected_samples: int
    maintenance_seconds: int


def totals(
    session: Session, instance_ids: Collection[uuid.UUID] | None, *, first_day: date, last_day: date
) -> dict[uuid.UUID, MonthTotals]:
    """Per instance, its measurements from ``first_day`` to ``last_day`` summed in the database (one query for any
    number of instances; None: every instance)."""
    table = core_table(Measurement)
    query = (
        core_select(
            table.c.service_instance_id,
            func.count(),
            func.min(table.c.day),
            func.max(table.c.day),
            func.sum(table.c.up_samples),
            func.sum(table.c.samples),
            func.sum(table.c.expected_samples),
            func.sum(table.c.maintenance_seconds),
        )
        .where(table.c.day >= first_day, table.c.day <= last_day)
        .group_by(table.c.service_instance_id)
    )
    if instance_ids is not None:
        if not instance_ids:
            return {}
        if len(instance_ids) <= 1000:  # beyond, every instance's sums, filtered here: one statement either way
            query = query.where(table.c.service_instance_id.in_(list(instance_ids)))
    wanted = None if instance_ids is None else set(instance_ids)
    return {
        row[0]: MonthTotals(int(row[1]), row[2], row[3], int(row[4]), int(row[5]), int(row[6]), int(row[7]))
        for row in session.connection().execute(query)
        if wanted is None or row[0] in wanted
    }


def measured_days(
    session: Session, instance_ids: Collection[uuid.UUID], *, first_day: date, last_day: date
) -> dict[uuid.UUID, list[tuple[date, int, int, int, int]]]:
    """Per instance, (day, up, samples, expected, maintenance seconds) from ``first_day`` to ``last_day``, in
    one query."""
    if not instance_ids:
        return {}
    table = core_table(Measurement)
    query = (
        core_select(
            table.c.service_instance_id,
            table.c.day,
            table.c.up_samples,
            table.c.samples,
            table.c.expected_samples,
            table.c.maintenance_seconds,
        )
        .where(table.c.day >= first_day, table.c.day <= last_day)
        .order_by(table.c.day)
    )
    if len(instance_ids) <= 1000:  # beyond, the range's rows of every instance, filtered here
        query = query.where(table.c.service_instance_id.in_(list(instance_ids)))
    wanted = set(instance_ids)
    days: dict[uuid.UUID, list[tuple[date, int, int, int, int]]] = defaultdict(list)
    for row in session.connection().execute(query):
        if row[0] in wanted:
            days[row[0]].append((row[1], row[2], row[3], row[4], row[5]))
    return dict(days)


def cut(window: Window, maintenance: Iterable[Window]) -> tuple[Window, ...]:
    """``window`` without the parts ``maintenance`` covers: the windows left, in order (maybe none)."""
    left = [window]
    for hole in sorted(maintenance):
        pieces = []
        for piece in left:
            if hole.end_ms <= piece.start_ms or hole.start_ms >= piece.end_ms:
                pieces.append(piece)
                continue
            if hole.start_ms > piece.start_ms:
                pieces.append(Window(piece.start_ms, hole.start_ms))
            if hole.end_ms < piece.end_ms:
                pieces.append(Window(hole.end_ms, piece.end_ms))
        left = pieces
    return tuple(left)
