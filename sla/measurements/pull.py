"""Pulling days from Prometheus: which instance-days are due, the queries that measure them, and writing them once.

A day is measured for every instance at once: one query per metric and label-name set, aggregated ``by`` those
labels, so the number of HTTP requests does not grow with the number of instances. Approved maintenance cuts the
day into sub-day windows for the instances it touches; instances with the same windows share their queries.
Everything for a day is asked before anything is written: a day whose pull fails writes nothing.
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from contracts.agreements.activity import active_lines
from contracts.catalog.models import CatalogService, SliKind
from contracts.instances.models import ServiceInstance
from monitoring.metrics import SLA_PULL_DAYS, SLA_PULL_DURATION, SLA_PULL_FAILURES, SLA_PULL_LAST_SUCCESS
from monitoring.promql import (
    MalformedAnswer,
    PrometheusClient,
    PromQLError,
    Window,
    aggregated,
    for_one,
    selector,
)
from opscenter.clock import Period, business_date, start_of_day
from opscenter.db import core_table
from opscenter.settings import Settings
from sla.maintenance.service import approved_windows
from sla.measurements.models import Measurement

log = logging.getLogger(__name__)

UP, SAMPLES = "sum_over_time", "count_over_time"


@dataclass(frozen=True)
class Target:
    """One service instance to measure, with its SLI."""

    instance_id: uuid.UUID
    contract_id: uuid.UUID
    line_no: int
    department_id: uuid.UUID
    metric: str
    interval_seconds: int
    matchers: tuple[tuple[str, str], ...]

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.matchers)


@dataclass
class PullResult:
    days: list[date]
    measured: int  # instance-days written
    requests: int
    failure: PromQLError | None = None
    failed_day: date | None = None


def targets(session: Session) -> list[Target]:
    """Every service instance whose service has an availability SLI, in one query."""
    instance, service = core_table(ServiceInstance), core_table(CatalogService)
    rows = session.connection().execute(
        select(
            instance.c.id,
            instance.c.contract_id,
            instance.c.line_no,
            instance.c.department_id,
            instance.c.label_matchers,
            service.c.sli_metric,
            service.c.sli_interval_seconds,
        )
        .join(service, service.c.id == instance.c.service_id)
        .where(service.c.sli_kind == SliKind.AVAILABILITY)
    )
    return [
        Target(row.id, row.contract_id, row.line_no, row.department_id, row.sli_metric, row.sli_interval_seconds,
               tuple(sorted(row.label_matchers.items())))
        for row in rows
    ]  # fmt: skip


def day_window(day: date) -> Window:
    return Window.of(start_of_day(day), start_of_day(day + timedelta(days=1)))


def last_complete_day(now: datetime, settle_minutes: int) -> date:
    """The last Asia/Shanghai day that ended at least ``settle_minutes`` ago (late samples have arrived)."""
    return business_date(now - timedelta(minutes=settle_minutes)) - timedelta(days=1)


def due(
    session: Session, days: Sequence[date], all_targets: Sequence[Target] | None = None, *, only_missing: bool = True
) -> dict[date, list[Target]]:
    """For each day, the instances whose contract line is in force that day and that have no measurement yet."""
    if all_targets is None:
        all_targets = targets(session)
    by_line = {(target.contract_id, target.line_no): target for target in all_targets}
    in_force: dict[date, list[Target]] = defaultdict(list)
    for period in sorted({Period.of(day) for day in days}):
        wanted = sorted({day for day in days if Period.of(day) == period})
        # every contract's lines (an IN list of thousands of contracts would cost more than it filters)
        for line in active_lines(session, period=period):
            target = by_line.get(line.key)
            if target is None:
                continue
            for span in line.spans:
                for day in wanted:
                    if span.first_day <= day <= span.last_day:
                        in_force[day].append(target)
    if not only_missing or not in_force:
        return dict(sorted(in_force.items()))
    table = core_table(Measurement)
    counts: dict[date, int] = dict(
        session.connection()
        .execute(select(table.c.day, func.count()).where(table.c.day.in_(list(in_force))).group_by(table.c.day))
        .all()
    )
    result: dict[date, list[Target]] = {}
    for day, day_targets in sorted(in_force.items()):
        if counts.get(day, 0) == 0:
            result[day] = day_targets
            continue
        measured = set(
            session.connection().execute(select(table.c.service_instance_id).where(table.c.day == day)).scalars()
        )
        if missing := [target for target in day_targets if target.instance_id not in measured]:
            result[day] = missing
    return result


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


def _count(value: Decimal, query: str) -> int:
    if value != value.to_integral_value() or value < 0:
        raise MalformedAnswer(f"{value} is not a count of samples (is the SLI a 0/1 gauge?): {query}")
    return int(value)


def measure_day(
    session: Session,
    prometheus: PrometheusClient,
    day: date,
    day_targets: Sequence[Target],
    *,
    now: datetime,
) -> int:
    """Measure ``day`` for ``day_targets`` and write their rows; returns how many were written (a row another
    pull wrote meanwhile is skipped, never doubled). Raises PromQLError having written nothing."""
    whole = day_window(day)
    start, end = start_of_day(day), start_of_day(day + timedelta(days=1))
    holes = approved_windows(session, [target.instance_id for target in day_targets], start=start, end=end)
    plan: dict[tuple[str, tuple[str, ...], tuple[Window, ...]], list[Target]] = defaultdict(list)
    for target in day_targets:
        plan[(target.metric, target.label_names, cut(whole, holes.get(target.instance_id, ())))].append(target)

    # per target (by its position in day_targets): [up, samples]
    counts = [[0, 0] for _ in day_targets]
    position = {id(target): n for n, target in enumerate(day_targets)}
    for (metric, names, windows), group in plan.items():
        keys = [(position[id(target)], tuple(value for _, value in target.matchers)) for target in group]
        for window in windows:
            for figure, function in enumerate((UP, SAMPLES)):
                query = aggregated(function, metric, names, window, prometheus.semantics)
                by_labels: dict[tuple[str, ...], int] = {}
                for sample in prometheus.vector(query):  # the query's @ pins its time
                    by_labels[tuple(sample.labels.get(name, "") for name in names)] = _count(sample.value, query)
                for n, key in keys:
                    counts[n][figure] += by_labels.get(key, 0)

    rows = []
    for (metric, _names, windows), group in plan.items():
        measured_ms = sum(window.end_ms - window.start_ms for window in windows)
        # the per-instance query around a placeholder, built once per group: only the selector differs
        templates = [for_one(function, metric, {}, window, prometheus.semantics).replace(metric + "{}", "\0")
                     for function in (UP, SAMPLES) for window in windows]  # fmt: skip
        for target in group:
            up, samples = counts[position[id(target)]]
            if up > samples:
                raise MalformedAnswer(f"{up} samples up of {samples} for {target.instance_id} on {day}")
            series = selector(metric, dict(target.matchers))
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "service_instance_id": target.instance_id,
                    "contract_id": target.contract_id,
                    "line_no": target.line_no,
                    "department_id": target.department_id,
                    "day": day,
                    "up_samples": up,
                    "samples": samples,
                    "expected_samples": measured_ms // (target.interval_seconds * 1000),
                    "maintenance_seconds": (whole.end_ms - whole.start_ms - measured_ms) // 1000,
                    "pulled_at": now,
                    "promql": [template.replace("\0", series) for template in templates],
                }
            )
    return _insert_once(session, rows)


def _insert_once(session: Session, rows: list[dict[str, object]]) -> int:
    """``INSERT … ON CONFLICT (service_instance_id, day) DO NOTHING`` for every row in one statement batch:
    under a race the second pull waits for the first to commit (PostgreSQL), then skips its rows."""
    if not rows:
        return 0
    table = core_table(Measurement)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["service_instance_id", "day"])
    # RETURNING counts exactly what this pull wrote (psycopg gives no rowcount for a batch)
    return len(session.execute(statement.returning(table.c.id), rows).all())


def pull(
    session: Session,
    prometheus: PrometheusClient,
    days: Sequence[date],
    *,
    now: datetime,
    progress: Callable[[date, int], None] | None = None,
) -> PullResult:
    """Measure the instance-days of ``days`` not measured yet, oldest first, stopping at the first day whose pull
    fails (that day writes nothing; the days before it stay written). Updates the pull's metrics."""
    started, requests_before = time.monotonic(), prometheus.requests
    result = PullResult(days=[], measured=0, requests=0)
    for day, day_targets in due(session, days).items():
        try:
            written = measure_day(session, prometheus, day, day_targets, now=now)
        except PromQLError as failure:
            SLA_PULL_FAILURES.labels(kind=failure.kind).inc()
            log.warning("SLA pull of %s failed, nothing written for it: %s", day, failure)
            result.failure, result.failed_day = failure, day
            break
        result.days.append(day)
        result.measured += written
        SLA_PULL_DAYS.inc(written)
        if progress is not None:
            progress(day, written)
    result.requests = prometheus.requests - requests_before
    SLA_PULL_DURATION.set(time.monotonic() - started)
    if result.failure is None:
        SLA_PULL_LAST_SUCCESS.set_to_current_time()
    return result


def horizon(now: datetime, settings: Settings) -> list[date]:
    """The complete days the hourly job looks at: the last ``sla_pull_horizon_days`` of them."""
    last = last_complete_day(now, settings.sla_pull_settle_minutes)
    return [last - timedelta(days=back) for back in reversed(range(settings.sla_pull_horizon_days))]
