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
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from contracts.agreements.models import Contract, ContractLine, ContractStatus, ContractVersion, VersionStatus
from contracts.terms import ContractTerms
from opscenter.clock import Period
from opscenter.db import core_table

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
    month_end = period.last_day if terminated_on is None else min(period.last_day, terminated_on)
    spans = []
    for position, version in enumerate(ordered):
        if version.line_start is None or version.line_end is None:
            continue
        governs_until = version.end_date
        if position + 1 < len(ordered):
            governs_until = min(governs_until, ordered[position + 1].effective_date - timedelta(days=1))
        first = max(period.first_day, version.effective_date, version.line_start)
        last = min(month_end, governs_until, version.line_end)
        if first <= last:
            spans.append((version, first, last))
    return spans


def active_lines(
    session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None = None
) -> list[ActiveLine]:
    """Every line in force on at least one day of ``period`` (of ``contract_ids``, or of every contract).

    One query for any number of lines; ordered by contract id, then line number.
    """
    if contract_ids is not None and not contract_ids:
        return []
    contract, version, line = (core_table(model) for model in (Contract, ContractVersion, ContractLine))
    query = (
        select(
            contract.c.id.label("contract_id"),
            contract.c.terminated_on,
            version.c.id.label("version_id"),
            version.c.number,
            version.c.effective_date,
            version.c.end_date,
            version.c.terms,
            line.c.line_no,
            line.c.department_id,
            line.c.service_id,
            line.c.quantity,
            line.c.unit_price_fen,
            line.c.start_date.label("line_start"),
            line.c.end_date.label("line_end"),
        )
        .join(version, version.c.contract_id == contract.c.id)
        .outerjoin(line, line.c.contract_version_id == version.c.id)
        .where(
            contract.c.status.in_(_IN_FORCE),
            version.c.status == VersionStatus.APPROVED,
            # one that starts after the month cannot govern in it, nor cut an earlier one short within it
            version.c.effective_date <= period.last_day,
        )
    )
    if contract_ids is not None:
        query = query.where(contract.c.id.in_(contract_ids))
    return list(_spans_of(session.connection().execute(query).all(), period))


def _spans_of(rows: Iterable[Any], period: Period) -> Iterable[ActiveLine]:
    terms_of: dict[uuid.UUID, ContractTerms] = {}  # validated once per version, not once per line
    by_text: dict[str, ContractTerms] = {}  # and once per distinct terms: most contracts share the standard ones
    versions: dict[uuid.UUID, dict[int, VersionSpan]] = defaultdict(dict)
    terms_by_number: dict[tuple[uuid.UUID, int], ContractTerms] = {}
    lines: dict[tuple[uuid.UUID, int], dict[int, Any]] = defaultdict(dict)
    terminated: dict[uuid.UUID, date | None] = {}
    for row in rows:
        terminated[row.contract_id] = row.terminated_on
        if row.version_id not in terms_of:
            text = json.dumps(row.terms or {}, sort_keys=True)
            if text not in by_text:
                by_text[text] = ContractTerms.model_validate(row.terms or {})
            terms_of[row.version_id] = by_text[text]
        terms_by_number[(row.contract_id, row.number)] = terms_of[row.version_id]
        versions[row.contract_id][row.number] = VersionSpan(row.number, row.effective_date, row.end_date, None, None)
        if row.line_no is not None:
            lines[(row.contract_id, row.line_no)][row.number] = row
    for (contract_id, line_no), by_version in sorted(lines.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        # every version of the contract counts (a later one ends an earlier one), with this line's dates in it
        spans_of_line = [
            VersionSpan(
                version.number,
                version.effective_date,
                version.end_date,
                by_version[version.number].line_start if version.number in by_version else None,
                by_version[version.number].line_end if version.number in by_version else None,
            )
            for version in versions[contract_id].values()
        ]
        spans = []
        for version, first, last in days_in_force(spans_of_line, period, terminated[contract_id]):
            row = by_version[version.number]
            terms = terms_by_number[(contract_id, version.number)]
            spans.append(ActiveSpan(version.number, first, last, row.quantity, row.unit_price_fen, terms))
        if spans:
            any_row = next(iter(by_version.values()))
            yield ActiveLine(contract_id, line_no, any_row.department_id, any_row.service_id, tuple(spans))


def line_in_force(session: Session, *, contract_id: uuid.UUID, line_no: int, period: Period) -> ActiveLine | None:
    """One line's activity in ``period``, or None when it is in force on no day of it."""
    for line in active_lines(session, period=period, contract_ids=[contract_id]):
        if line.line_no == line_no:
            return line
    return None
