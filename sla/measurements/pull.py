"""Pulling days from Prometheus: which instance-days are due, the queries that measure them, and writing them once.

A day is measured for every instance at once: one query per metric and label-name set, aggregated ``by`` those
labels, so the number of HTTP requests does not grow with the number of instances. Approved maintenance cuts the
day into sub-day windows for the instances it touches; instances with the same windows share their queries.
Everything for a day is asked before anything is written: a day whose pull fails writes nothing.

No transaction is open while Prometheus is asked (it may be slow, away, or retried with backoff): what is due is
read in one short read transaction first, and each day's rows are written in a short write transaction of their
own once its answers are in, by the unique (instance, day), so a pull stopped between two days is simply resumed
by the next one. On SQLite a write transaction holds the one write lock every request that writes needs.
"""

import contextvars
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from contracts.agreements.activity import active_lines, in_force_bounds
from contracts.catalog.models import CatalogService, SliKind
from contracts.instances.models import ServiceInstance
from monitoring.metrics import SLA_PULL_DAYS, SLA_PULL_DURATION, SLA_PULL_FAILURES, SLA_PULL_LAST_SUCCESS
from monitoring.promql import (
    MalformedAnswer,
    PrometheusClient,
    PromQLError,
    Sample,
    Window,
    aggregated,
    for_one,
    selector,
)
from opscenter.db import Transactions, core_table, insert_rows, new_id
from opscenter.settings import Settings
from opscenter.timekeeping import Period, business_date, start_of_day
from sla.maintenance.service import approved_windows
from sla.measurements.models import Measurement
from sla.measurements.service import cut

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
    session: Session, days: Sequence[date], all_targets: Sequence[Target], unmeasured: set[date]
) -> dict[date, list[Target]]:
    """For each day, the instances whose contract line is in force that day and that have no measurement yet
    (``unmeasured``: those of ``days`` with no measurement at all, as ``_unmeasured`` finds them)."""
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
    table = core_table(Measurement)
    result: dict[date, list[Target]] = {}
    for day, day_targets in sorted(in_force.items()):
        if day in unmeasured:
            result[day] = day_targets
            continue
        measured = set(
            session.connection().execute(select(table.c.service_instance_id).where(table.c.day == day)).scalars()
        )
        if missing := [target for target in day_targets if target.instance_id not in measured]:
            result[day] = missing
    return result


def _count(value: Decimal, query: str) -> int:
    count = int(value)
    if count != value or count < 0:
        raise MalformedAnswer(f"{value} is not a count of samples (is the SLI a 0/1 gauge?): {query}")
    return count


def counts_by(answer: Iterable[Sample], query: str, names: tuple[str, ...]) -> dict[tuple[str, ...], int]:
    """The answer to an aggregated count query, by the values of the labels it aggregates ``by``."""
    return {tuple([sample.labels.get(name, "") for name in names]): _count(sample.value, query) for sample in answer}


class Ahead:
    """Whole-day queries sent to Prometheus from a background thread while the pull reads the database.

    Most of a pull's time is Prometheus answering; the targets, the due instance-days, the maintenance windows and
    the rows are the database's part. Sending a day's whole-day queries first and reading the database meanwhile
    hides the one behind the other. The thread only sends: it waits for one answer and sends the next query while
    the pull reads the answer before (reading 10,000 series is not quick). The pull asks ahead only for days with
    no measurement yet (their whole-day queries are almost surely needed), one day ahead at most (an answer for
    10,000 instances is held until it is used). An answer never taken is dropped; a failure is raised where its
    answer is taken, as if it had been asked then.
    """

    def __init__(self, prometheus: PrometheusClient, groups: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        self._prometheus = prometheus
        self._groups = sorted(set(groups))
        self._asked: dict[str, Future[httpx.Response]] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sla-pull-ahead")

    def ask_day(self, day: date) -> None:
        """Start sending ``day``'s whole-day queries, one per metric and label-name set and count."""
        window = day_window(day)
        for metric, names in self._groups:
            for function in (UP, SAMPLES):
                query = aggregated(function, metric, names, window, self._prometheus.semantics)
                if query not in self._asked:
                    # In the caller's context: the query's span (opscenter/tracing.py) joins the run's trace.
                    self._asked[query] = self._thread.submit(
                        contextvars.copy_context().run, self._prometheus.send, query
                    )

    def take(self, query: str, names: tuple[str, ...]) -> dict[tuple[str, ...], int]:
        """The counts ``query`` answers: to the one sent ahead, or sent now."""
        asked = self._asked.pop(query, None)
        answer = self._prometheus.send(query) if asked is None else asked.result()
        return counts_by(self._prometheus.vector_of(answer), query, names)

    def close(self) -> None:
        for asked in self._asked.values():
            asked.cancel()
        self._asked.clear()
        self._thread.shutdown(wait=True)


# The sorted label names of an instance's matchers, read by the database: it has a JSON function for it.
_LABEL_NAMES = {
    "postgresql": "ARRAY(SELECT json_object_keys(service_instance.label_matchers) ORDER BY 1)",
    "sqlite": "(SELECT json_group_array(key) FROM"
    " (SELECT key FROM json_each(service_instance.label_matchers) ORDER BY key))",
}


def sli_groups(session: Session) -> set[tuple[str, tuple[str, ...]]]:
    """The (metric, label names) of the instances with an availability SLI: the whole-day queries a day needs,
    known without reading every target (one row per distinct set)."""
    instance, service = core_table(ServiceInstance), core_table(CatalogService)
    names: ColumnElement[Any] = literal_column(_LABEL_NAMES[session.get_bind().dialect.name])
    rows = session.connection().execute(
        select(service.c.sli_metric, names)
        .distinct()
        .select_from(instance.join(service, service.c.id == instance.c.service_id))
        .where(service.c.sli_kind == SliKind.AVAILABILITY)
    )
    # sorted here as ``Target.label_names`` sorts them (a database's collation may not sort by code point)
    return {(metric, tuple(sorted(json.loads(keys) if isinstance(keys, str) else keys))) for metric, keys in rows}


def _first_due_guess(session: Session, fresh: set[date]) -> date | None:
    """The oldest unmeasured day that some contract may cover: most likely the first day the pull measures."""
    bounds = in_force_bounds(session) if fresh else None
    if bounds is None:
        return None
    return next((day for day in sorted(fresh) if bounds[0] <= day <= bounds[1]), None)


def _unmeasured(session: Session, days: Sequence[date]) -> set[date]:
    """Those of ``days`` with no measurement at all."""
    table = core_table(Measurement)
    measured = set(
        session.connection().execute(select(table.c.day).where(table.c.day.in_(list(days))).distinct()).scalars()
    )
    return {day for day in days if day not in measured}


def maintenance(session: Session, due_days: dict[date, list[Target]]) -> dict[uuid.UUID, list[Window]]:
    """The approved maintenance windows of the due instances over all the due days, in one query (``cut`` keeps of
    each only what falls in the day it cuts)."""
    if not due_days:
        return {}
    instance_ids = {target.instance_id for day_targets in due_days.values() for target in day_targets}
    start, end = start_of_day(min(due_days)), start_of_day(max(due_days) + timedelta(days=1))
    return approved_windows(session, instance_ids, start=start, end=end)


def measure_day(
    prometheus: PrometheusClient,
    day: date,
    day_targets: Sequence[Target],
    *,
    holes: dict[uuid.UUID, list[Window]],
    now: datetime,
    ahead: Ahead | None = None,
) -> list[dict[str, Any]]:
    """The rows measuring ``day`` for ``day_targets`` (maintenance ``holes`` cut out), in the order ``write_once``
    writes them; asks Prometheus and touches no database. Raises PromQLError when the day cannot be measured.
    Queries that ``ahead`` already asked are answered from it."""
    whole = day_window(day)
    plan: dict[tuple[str, tuple[str, ...], tuple[Window, ...]], list[Target]] = defaultdict(list)
    for target in day_targets:
        plan[(target.metric, target.label_names, cut(whole, holes.get(target.instance_id, ())))].append(target)

    # The rows first, all but their counts: built while the answers asked ahead are still coming.
    rows: dict[tuple[str, tuple[str, ...], tuple[Window, ...]], list[tuple[tuple[str, ...], dict[str, Any]]]] = {}
    for (metric, names, windows), group in plan.items():
        measured_ms = sum(window.end_ms - window.start_ms for window in windows)
        # the per-instance query around a placeholder, built once per group: only the selector differs
        templates = [for_one(function, metric, {}, window, prometheus.semantics).replace(metric + "{}", "\0")
                     for function in (UP, SAMPLES) for window in windows]  # fmt: skip
        rows[(metric, names, windows)] = [
            (
                tuple(value for _, value in target.matchers),
                {
                    "id": new_id(),
                    "service_instance_id": target.instance_id,
                    "contract_id": target.contract_id,
                    "line_no": target.line_no,
                    "department_id": target.department_id,
                    "day": day,
                    "up_samples": 0,
                    "samples": 0,
                    "expected_samples": measured_ms // (target.interval_seconds * 1000),
                    "maintenance_seconds": (whole.end_ms - whole.start_ms - measured_ms) // 1000,
                    "pulled_at": now,
                    "promql": [template.replace("\0", series) for template in templates],
                },
            )
            for target in group
            for series in (selector(metric, dict(target.matchers)),)
        ]

    # in the order write_once writes them, while the answers asked ahead are still coming
    ordered = sorted((row for group_rows in rows.values() for _, row in group_rows), key=_instance_order)

    for (metric, names, windows), group_rows in rows.items():
        for window in windows:
            for column, function in (("up_samples", UP), ("samples", SAMPLES)):
                query = aggregated(function, metric, names, window, prometheus.semantics)
                by_labels = (
                    ahead.take(query, names) if ahead is not None else counts_by(prometheus.vector(query), query, names)
                )
                for key, row in group_rows:
                    row[column] += by_labels.get(key, 0)

    for row in ordered:
        if row["up_samples"] > row["samples"]:
            raise MalformedAnswer(
                f"{row['up_samples']} samples up of {row['samples']} for {row['service_instance_id']} on {day}"
            )
    return ordered


def _instance_order(row: dict[str, Any]) -> int:
    instance: uuid.UUID = row["service_instance_id"]
    return instance.int  # compared as ints: comparing UUIDs runs Python code


def write_once(session: Session, rows: list[dict[str, Any]], *, fresh: bool = False) -> int:
    """Write each row unless a row of its (instance, day) exists; returns how many were written. Under a race the
    second pull waits for the first to commit (PostgreSQL), then skips the rows the first wrote.

    Rows are written in the order of their instances, as every pull writes them (two racing pulls wait on each
    other, never deadlock). ``fresh`` says nobody had measured the day when the pull began: on PostgreSQL the rows
    then go in by COPY (10,000 in 0.15 s against 0.30 s), in a savepoint; should a racing pull have written some
    meanwhile, the COPY fails whole and the rows go in as below. Otherwise ``INSERT … ON CONFLICT (instance, day)
    DO NOTHING`` in one executemany, counted by the drivers' summed row count (sqlite3 and psycopg 3 count what
    each row inserted, a skipped one as 0; asking for the ids back costs 2.6 times as long on PostgreSQL)."""
    if not rows:
        return 0
    rows = sorted(rows, key=_instance_order)  # a pass when they come in order already
    table = core_table(Measurement)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if fresh and postgresql:
        from psycopg.errors import UniqueViolation  # here: on SQLite the driver is never loaded (~9 MiB)

        try:
            with session.begin_nested():
                insert_rows(session, table, rows)
            return len(rows)
        except UniqueViolation:
            log.info("another pull wrote some of %s meanwhile; writing the rest", rows[0]["day"])
    insert = postgresql_insert if postgresql else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["service_instance_id", "day"])
    return session.connection().execute(statement, rows, execution_options={"preserve_rowcount": True}).rowcount


def pull(
    db: Transactions,
    prometheus: PrometheusClient,
    days: Sequence[date],
    *,
    now: datetime,
    progress: Callable[[date, int], None] | None = None,
) -> PullResult:
    """Measure the instance-days of ``days`` not measured yet, oldest first, stopping at the first day whose pull
    fails (that day writes nothing; the days before it stay written). Opens its own transactions on ``db``: one
    read transaction for what is due, then one write transaction per day measured, none while Prometheus is asked.
    Updates the pull's metrics."""
    started, requests_before = time.monotonic(), prometheus.requests
    result = PullResult(days=[], measured=0, requests=0)
    ahead: Ahead | None = None
    try:
        with db.transaction(write=False) as session:
            groups = sli_groups(session)
            fresh = _unmeasured(session, days) if groups else set()
            ahead = Ahead(prometheus, groups)
            if guess := _first_due_guess(session, fresh):  # sent by Ahead's thread while the rest is read here
                ahead.ask_day(guess)
            due_days = due(session, days, targets(session), fresh)
            holes = maintenance(session, due_days)
        asked_ahead = [day for day in due_days if day in fresh]
        for day, day_targets in due_days.items():
            if following := next((later for later in asked_ahead if later > day), None):
                ahead.ask_day(following)  # asked while this day is measured and written
            try:
                rows = measure_day(prometheus, day, day_targets, holes=holes, now=now, ahead=ahead)
            except PromQLError as failure:
                SLA_PULL_FAILURES.labels(kind=failure.kind).inc()
                log.warning("SLA pull of %s failed, nothing written for it: %s", day, failure)
                result.failure, result.failed_day = failure, day
                break
            with db.transaction(write=True) as session:
                written = write_once(session, rows, fresh=day in fresh)
            result.days.append(day)
            result.measured += written
            SLA_PULL_DAYS.inc(written)
            if progress is not None:
                progress(day, written)
    finally:
        if ahead is not None:
            ahead.close()
    result.requests = prometheus.requests - requests_before
    SLA_PULL_DURATION.set(time.monotonic() - started)
    if result.failure is None:
        SLA_PULL_LAST_SUCCESS.set_to_current_time()
    return result


def horizon(now: datetime, settings: Settings) -> list[date]:
    """The complete days the hourly job looks at: the last ``sla_pull_horizon_days`` of them."""
    last = last_complete_day(now, settings.sla_pull_settle_minutes)
    return [last - timedelta(days=back) for back in reversed(range(settings.sla_pull_horizon_days))]
