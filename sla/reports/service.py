"""Monthly SLA reports: a contract line's measured days over the part of the month in which it is active.

``line_reports`` is what billing calls: any number of lines in a constant number of queries. Ratios are computed
with Decimal from the integer counts; percentages are cut (rounded down) to the precision of the terms, which keeps
every comparison with a threshold of that precision exactly as the exact ratio would decide it.
"""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlmodel import Session

from contracts.agreements import service as agreements
from contracts.agreements.activity import ActiveLine, active_lines
from contracts.catalog.models import CatalogService
from contracts.instances import service as instances
from contracts.instances.models import ServiceInstance
from contracts.terms import ContractTerms
from monitoring.promql import RangeSelectors, Window, over_window, selector
from opscenter.db import core_table
from opscenter.identity.actor import Actor
from opscenter.pagination import CursorPage, PageRequest, Slice
from opscenter.settings import get_settings
from opscenter.timekeeping import Period, business_date, start_of_day, utcnow
from sla.maintenance.service import approved_windows
from sla.measurements import service as measurements
from sla.measurements.service import cut
from sla.reports.models import LineReport, SlaStatus

Key = tuple[uuid.UUID, int]
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class _Instance:
    id: uuid.UUID
    metric: str
    matchers: dict[str, str]


def precision(*thresholds: Decimal) -> Decimal:
    """The quantum of the most precise threshold: ``"99.90"`` → 0.01, ``"95.0"`` → 0.1, ``"99"`` → 1."""
    places = max((-threshold.as_tuple().exponent for threshold in thresholds), default=0)  # type: ignore[operator]
    return Decimal(1).scaleb(-max(places, 0))


def percent(part: int, whole: int, quantum: Decimal) -> Decimal | None:
    """``part / whole`` in percent, cut to ``quantum``; None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(quantum, rounding=ROUND_DOWN)


def verdict(
    terms: ContractTerms, *, up: int, samples: int, expected: int, final: bool
) -> tuple[SlaStatus, Decimal | None, Decimal | None, Decimal, Decimal | None]:
    """(status, availability, coverage, credit_pct, credit_tier_below) of a month's counts under ``terms``.

    Not ``final`` (the month is not over, or days are missing): pending. Coverage below ``min_coverage``:
    insufficient_data, no credit. A gap lowers coverage, never availability: missing samples are unknown, not down.
    """
    availability = percent(up, samples, precision(terms.availability_target, *(t.below for t in terms.credit_tiers)))
    coverage = percent(samples, expected, precision(terms.min_coverage))
    if not final:
        return SlaStatus.PENDING, availability, coverage, Decimal(0), None
    if availability is None or coverage is None or coverage < terms.min_coverage:
        return SlaStatus.INSUFFICIENT_DATA, availability, coverage, Decimal(0), None
    status = SlaStatus.MET if availability >= terms.availability_target else SlaStatus.BREACHED
    applicable = [tier for tier in terms.credit_tiers if availability < tier.below]
    tier = min(applicable, key=lambda tier: tier.below) if applicable else None
    return status, availability, coverage, tier.credit_pct if tier else Decimal(0), tier.below if tier else None


def line_reports(
    session: Session, *, period: Period, keys: Collection[Key] | None = None, now: datetime | None = None
) -> dict[Key, LineReport]:
    """The reports of the lines ``keys`` ((contract_id, line_no)) active in ``period``, or of every active line.

    A line in force on no day of the period has no report (absent from the answer). A constant number of queries
    whatever the number of lines.
    """
    now = now or utcnow()
    lines = active_lines(session, period=period, contract_ids=None if keys is None else {key[0] for key in keys})
    if keys is not None:
        wanted = set(keys)
        lines = [line for line in lines if line.key in wanted]
    instance_of = _instances(session, {line.contract_id for line in lines} if keys is not None else None)
    ids = [instance_of[line.key].id for line in lines if line.key in instance_of]
    first, last = period.first_day, period.last_day
    sums = measurements.totals(session, ids if keys is not None else None, first_day=first, last_day=last)
    # Lines whose measured days are not simply all their active days need the days themselves (for the PromQL,
    # and to count only days in force): few, in one query.
    irregular = [
        instance_of[line.key].id
        for line in lines
        if line.key in instance_of and not _regular(line, sums.get(instance_of[line.key].id))
    ]
    days = measurements.measured_days(session, irregular, first_day=first, last_day=last)
    start, end = period.bounds()
    holes = approved_windows(session, ids, start=start, end=end)
    semantics = get_settings().prometheus_range_selectors
    month_over = now >= end
    reports = {}
    for line in lines:
        instance = instance_of.get(line.key)
        reports[line.key] = _report(
            line, instance, period, sums, days, holes, semantics=semantics, now=now, month_over=month_over
        )
    return reports


def _instances(session: Session, contract_ids: Collection[uuid.UUID] | None) -> dict[Key, _Instance]:
    instance, service = core_table(ServiceInstance), core_table(CatalogService)
    query = select(
        instance.c.id, instance.c.contract_id, instance.c.line_no, instance.c.label_matchers, service.c.sli_metric
    ).join(service, service.c.id == instance.c.service_id)
    if contract_ids is not None:
        query = query.where(instance.c.contract_id.in_(list(contract_ids)))
    return {
        (row.contract_id, row.line_no): _Instance(row.id, row.sli_metric, row.label_matchers)
        for row in session.connection().execute(query)
    }


def _active_days(line: ActiveLine) -> list[date]:
    return [span.first_day + timedelta(days=n) for span in line.spans for n in range(span.days)]


def _regular(line: ActiveLine, sums: measurements.MonthTotals | None) -> bool:
    """True when the sums alone tell the line's figures: its active days are one run (amendments included) and the
    measured days one run inside it (all of them, or those of a month still going)."""
    if sums is None:
        return True
    return (
        line.active_days == (line.last_day - line.first_day).days + 1
        and sums.days == (sums.last_day - sums.first_day).days + 1
        and line.first_day <= sums.first_day
        and sums.last_day <= line.last_day
    )


def _report(
    line: ActiveLine,
    instance: _Instance | None,
    period: Period,
    sums: dict[uuid.UUID, measurements.MonthTotals],
    days: dict[uuid.UUID, list[tuple[date, int, int, int, int]]],
    holes: dict[uuid.UUID, list[Window]],
    *,
    semantics: RangeSelectors,
    now: datetime,
    month_over: bool,
) -> LineReport:
    today = business_date(now)  # the days before it are over
    over = sum(max(0, (min(span.last_day, today - timedelta(days=1)) - span.first_day).days + 1) for span in line.spans)
    up = samples = expected = maintenance = 0
    measured: list[date] = []
    missing = over
    if instance is not None and instance.id in days:  # some days missing, or out of force: count day by day
        in_force = set(_active_days(line))
        for day, day_up, day_samples, day_expected, day_maintenance in days[instance.id]:
            if day in in_force:
                measured.append(day)
                up, samples, expected = up + day_up, samples + day_samples, expected + day_expected
                maintenance += day_maintenance
        missing = over - sum(1 for day in measured if day < today)
    elif instance is not None and instance.id in sums:  # one run of measured days inside the line's: the sums
        total = sums[instance.id]
        measured = [total.first_day + timedelta(days=n) for n in range(total.days)]
        up, samples, expected = total.up_samples, total.samples, total.expected_samples
        maintenance = total.maintenance_seconds
        missing = over - sum(1 for day in measured if day < today)
    # A line without an instance has nothing that could ever be measured: once the month is over, that is a lack of
    # data, not a wait.
    final = month_over and (missing == 0 or instance is None)
    terms = line.terms
    status, availability, coverage, credit_pct, below = verdict(
        terms, up=up, samples=samples, expected=expected, final=final
    )
    promql = [] if instance is None else _promql(instance, measured, holes.get(instance.id, ()), semantics)
    budget_left = error_budget_left(terms.availability_target, up=up, samples=samples, expected=expected,
                                    measured_days=len(measured), active_days=line.active_days)  # fmt: skip
    return LineReport(
        contract_id=line.contract_id,
        line_no=line.line_no,
        period=str(period),
        service_instance_id=None if instance is None else instance.id,
        department_id=line.department_id,
        first_day=line.first_day,
        last_day=line.last_day,
        active_days=line.active_days,
        status=status,
        availability=availability,
        coverage=coverage,
        availability_target=terms.availability_target,
        min_coverage=terms.min_coverage,
        credit_pct=credit_pct,
        credit_tier_below=below,
        up_samples=up,
        samples=samples,
        expected_samples=expected,
        maintenance_minutes=maintenance // 60,
        days_missing=missing,
        error_budget_left=budget_left,
        promql=promql,
    )


def error_budget_left(
    target: Decimal, *, up: int, samples: int, expected: int, measured_days: int, active_days: int
) -> Decimal | None:
    """Percent of the month's error budget left: the month's expected samples (those of the measured days, spread
    over every active day) times ``1 - target`` is what may be down; the down samples so far spend it."""
    if not samples or not expected or not measured_days:
        return None
    allowed = (100 - target) / 100 * Decimal(expected) * active_days / measured_days
    down = samples - up
    if allowed <= 0:
        return Decimal(0) if down else Decimal(100)
    left = 100 * (1 - Decimal(down) / allowed)
    return max(Decimal(0), left).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def _promql(
    instance: _Instance, measured: Iterable[date], holes: Iterable[Window], semantics: RangeSelectors
) -> list[str]:
    """One expression per figure summing the measured days' windows (consecutive days merged, maintenance cut)."""
    runs: list[list[date]] = []  # consecutive days, as [first, last]
    for day in sorted(measured):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    windows = [Window.of(start_of_day(first), start_of_day(last + timedelta(days=1))) for first, last in runs]
    pieces = [piece for window in windows for piece in cut(window, holes)]
    series = selector(instance.metric, instance.matchers)
    return [
        " + ".join(f"(sum({over_window(function, series, piece, semantics)}) or vector(0))" for piece in pieces)
        or "vector(0)"
        for function in ("sum_over_time", "count_over_time")
    ]


def check_filters(
    session: Session, *, actor: Actor, contract_id: uuid.UUID | None, service_instance_id: uuid.UUID | None
) -> None:
    """NotFound when ``actor`` may not see the contract or the instance a list of reports is filtered by."""
    if contract_id is not None:
        agreements.get_contract(session, contract_id, actor=actor)
    if service_instance_id is not None:
        instances.get_instance(session, service_instance_id, actor=actor)


def list_reports(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    period: Period,
    contract_id: uuid.UUID | None = None,
    service_instance_id: uuid.UUID | None = None,
) -> CursorPage[LineReport]:
    """The reports of a page of the service instances ``actor`` may see (another's instance or contract: NotFound).
    An instance whose line is in force on no day of ``period`` has no report on the page."""
    if contract_id is not None:
        agreements.get_contract(session, contract_id, actor=actor)
    if service_instance_id is not None:
        instance = instances.get_instance(session, service_instance_id, actor=actor)
        if contract_id is not None and instance.contract_id != contract_id:
            rows = Slice[ServiceInstance](rows=[], limit=page.limit, next_cursor=None, total=0 if page.count else None)
        else:
            rows = Slice(rows=[instance], limit=page.limit, next_cursor=None, total=1 if page.count else None)
    else:
        rows = instances.list_instances(session, actor=actor, page=page, contract_id=contract_id)
    keys = [(row.contract_id, row.line_no) for row in rows]
    reports = line_reports(session, period=period, keys=keys) if keys else {}
    return rows.page_of([reports[key] for key in keys if key in reports])
