"""Which days of a month each contract line is in force, and under which version's quantity, price and terms.

SLA reports measure a line over the part of the month in which it is active, and billing prorates its base by
the same days (DESIGN §5), so both read it from here. A line is in force on a day when an approved version of
its approved (or terminated) contract governs that day and contains the line with dates covering it. Version n
governs from its effective date until the day before version n+1 takes effect (the last one until its end
date); a terminated contract stops after its termination date.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from contracts.agreements.models import Contract, ContractLine, ContractStatus, ContractVersion, VersionStatus
from contracts.terms import ContractTerms
from opscenter.db import core_table
from opscenter.timekeeping import Period

_IN_FORCE = (ContractStatus.APPROVED, ContractStatus.TERMINATED)


@dataclass(frozen=True)
class ActiveSpan:
    """Consecutive days of one month on which a line is in force under one version."""

    version_number: int
    first_day: date
    last_day: date
    quantity: int
    unit_price_fen: int
    terms: ContractTerms

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class ActiveLine:
    """A contract line's activity in one month: its spans in day order, never empty."""

    contract_id: uuid.UUID
    line_no: int
    department_id: uuid.UUID
    service_id: uuid.UUID
    spans: tuple[ActiveSpan, ...]

    @property
    def active_days(self) -> int:
        return sum(span.days for span in self.spans)

    @property
    def first_day(self) -> date:
        return self.spans[0].first_day

    @property
    def last_day(self) -> date:
        return self.spans[-1].last_day

    @property
    def terms(self) -> ContractTerms:
        """The terms in force on the line's last active day of the month."""
        return self.spans[-1].terms

    @property
    def key(self) -> tuple[uuid.UUID, int]:
        return self.contract_id, self.line_no


@dataclass(frozen=True)
class VersionSpan:
    """What one approved version says of one line: the version's own span, and the line's dates in it."""

    number: int
    effective_date: date
    end_date: date
    line_start: date | None  # None: this version has no such line
    line_end: date | None


def days_in_force(
    versions: list[VersionSpan], period: Period, terminated_on: date | None
) -> list[tuple[VersionSpan, date, date]]:
    """The first and last day of ``period`` on which each version keeps the line in force (versions of one
    contract, any order; a version with no such day is left out)."""
    ordered = sorted(versions, key=lambda version: version.number)
    month_end = _month_end(period, terminated_on)
    spans = []
    for version, until in zip(ordered, _governs_until(ordered), strict=True):
        if version.line_start is None or version.line_end is None:
            continue
        if days := _days(period, month_end, version.effective_date, until, version.line_start, version.line_end):
            spans.append((version, *days))
    return spans


# The rule both the one-line and the every-line reading follow: a line is in force under a version on the days the
# version governs, the line's dates in it cover, and the month (up to a termination) holds.


def _month_end(period: Period, terminated_on: date | None) -> date:
    """The last day of ``period`` a contract terminated on ``terminated_on`` (or not) can be in force."""
    return period.last_day if terminated_on is None else min(period.last_day, terminated_on)


def _days(
    period: Period, month_end: date, effective_date: date, governs_until: date, line_start: date, line_end: date
) -> tuple[date, date] | None:
    """The first and last day of ``period`` a line is in force under one version, or None when there is none."""
    first = max(period.first_day, effective_date, line_start)
    last = min(month_end, governs_until, line_end)
    return (first, last) if first <= last else None


def _governs_until(ordered: Sequence[Any]) -> list[date]:
    """For versions of one contract in number order (each with ``effective_date`` and ``end_date``), the last day
    each governs: its end date, or the day before the next version takes effect."""
    return [
        version.end_date if following is None else min(version.end_date, following.effective_date - timedelta(days=1))
        for version, following in zip(ordered, [*ordered[1:], None], strict=True)
    ]


def active_lines(
    session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None = None
) -> list[ActiveLine]:
    """Every line in force on at least one day of ``period`` (of ``contract_ids``, or of every contract).

    Two queries for any number of lines (the versions that may govern in the month, with their terms; then their
    lines); ordered by contract id, then line number.
    """
    if contract_ids is not None and not contract_ids:
        return []
    contract, version, line = (core_table(model) for model in (Contract, ContractVersion, ContractLine))
    governing = (
        select(version.c.id)
        .join(contract, contract.c.id == version.c.contract_id)
        .where(
            contract.c.status.in_(_IN_FORCE),
            version.c.status == VersionStatus.APPROVED,
            # one that starts after the month cannot govern in it, nor cut an earlier one short within it
            version.c.effective_date <= period.last_day,
        )
    )
    if contract_ids is not None:
        governing = governing.where(contract.c.id.in_(contract_ids))
    connection = session.connection()
    version_rows = connection.execute(
        select(
            version.c.id,
            version.c.contract_id,
            contract.c.terminated_on,
            version.c.number,
            version.c.effective_date,
            version.c.end_date,
            version.c.terms,
        )
        .join(contract, contract.c.id == version.c.contract_id)
        .where(version.c.id.in_(governing))
    ).all()
    if not version_rows:
        return []
    # Terms are read once per version here (a line row would repeat its version's), and validated once per
    # distinct text: most contracts share the standard ones.
    line_rows = connection.execute(
        select(
            line.c.contract_version_id,
            line.c.line_no,
            line.c.department_id,
            line.c.service_id,
            line.c.quantity,
            line.c.unit_price_fen,
            line.c.start_date,
            line.c.end_date,
        ).where(line.c.contract_version_id.in_(governing))
    ).all()
    return _spans_of(version_rows, line_rows, period)


@dataclass(frozen=True)
class _Version:
    contract_id: uuid.UUID
    number: int
    effective_date: date
    governs_until: date  # its end date, or the day before the next version takes effect
    terms: ContractTerms


def _spans_of(version_rows: Iterable[Any], line_rows: Iterable[Any], period: Period) -> list[ActiveLine]:
    by_text: dict[str, ContractTerms] = {}
    by_contract: dict[uuid.UUID, list[Any]] = defaultdict(list)
    terminated: dict[uuid.UUID, date | None] = {}
    for row in version_rows:
        by_contract[row.contract_id].append(row)
        terminated[row.contract_id] = row.terminated_on
    versions: dict[uuid.UUID, _Version] = {}
    month_end: dict[uuid.UUID, date] = {}
    for contract_id, rows in by_contract.items():
        rows.sort(key=lambda row: row.number)
        month_end[contract_id] = _month_end(period, terminated[contract_id])
        for row, until in zip(rows, _governs_until(rows), strict=True):
            text = json.dumps(row.terms or {}, sort_keys=True)
            if text not in by_text:
                by_text[text] = ContractTerms.model_validate(row.terms or {})
            versions[row.id] = _Version(contract_id, row.number, row.effective_date, until, by_text[text])

    spans: dict[tuple[uuid.UUID, int], list[tuple[int, ActiveSpan, Any]]] = defaultdict(list)
    for row in line_rows:
        version = versions[row.contract_version_id]
        ends = month_end[version.contract_id]
        if days := _days(period, ends, version.effective_date, version.governs_until, row.start_date, row.end_date):
            span = ActiveSpan(version.number, *days, row.quantity, row.unit_price_fen, version.terms)
            spans[(version.contract_id, row.line_no)].append((version.number, span, row))
    lines = []
    for (contract_id, line_no), found in sorted(spans.items()):
        found.sort(key=lambda item: item[0])
        last_row = found[-1][2]
        lines.append(
            ActiveLine(contract_id, line_no, last_row.department_id, last_row.service_id, tuple(s for _, s, _ in found))
        )
    return lines


def in_force_bounds(session: Session) -> tuple[date, date] | None:
    """The first and last day any approved version of an approved or terminated contract covers, or None when
    there is none: no line is in force outside them (a bound for a guess; ``active_lines`` says exactly)."""
    contract, version = core_table(Contract), core_table(ContractVersion)
    first, last = (
        session.connection()
        .execute(
            select(func.min(version.c.effective_date), func.max(version.c.end_date))
            .join(contract, contract.c.id == version.c.contract_id)
            .where(contract.c.status.in_(_IN_FORCE), version.c.status == VersionStatus.APPROVED)
        )
        .one()
    )
    return None if first is None or last is None else (first, last)


def line_in_force(session: Session, *, contract_id: uuid.UUID, line_no: int, period: Period) -> ActiveLine | None:
    """One line's activity in ``period``, or None when it is in force on no day of it."""
    for line in active_lines(session, period=period, contract_ids=[contract_id]):
        if line.line_no == line_no:
            return line
    return None
