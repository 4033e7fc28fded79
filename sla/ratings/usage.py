"""Which service instances a department may rate for a month: its own, under a contract line in force then.

A line is in force on a day when an approved version of its (approved or terminated) contract governs
that day and contains the line with dates covering it. Version n governs from its effective date until
the day before version n+1 takes effect (the last one until its end date); a terminated contract
stops after its termination date.
"""

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlmodel import Session

from contracts.agreements.models import Contract, ContractLine, ContractStatus, ContractVersion, VersionStatus
from contracts.instances.models import ServiceInstance
from opscenter.clock import Period
from opscenter.db import core_table

_IN_FORCE = (ContractStatus.APPROVED, ContractStatus.TERMINATED)


@dataclass(frozen=True)
class VersionSpan:
    number: int
    effective_date: date
    end_date: date
    line_start: date | None  # None: this version has no such line
    line_end: date | None


def instances_in_use(
    session: Session, *, department_id: uuid.UUID, wanted: Collection[tuple[uuid.UUID, Period]]
) -> dict[tuple[uuid.UUID, Period], uuid.UUID]:
    """Of the (instance, month) pairs ``wanted``, those the department may rate, each with its contract id.

    One query for any number of pairs. Another department's instance is simply absent, as a missing one.
    """
    instance_ids = {instance_id for instance_id, _ in wanted}
    if not instance_ids:
        return {}
    instance, contract, version, line = (
        core_table(model) for model in (ServiceInstance, Contract, ContractVersion, ContractLine)
    )
    rows = (
        session.connection()
        .execute(
            select(
                instance.c.id,
                instance.c.contract_id,
                contract.c.terminated_on,
                version.c.number,
                version.c.effective_date,
                version.c.end_date,
                line.c.start_date,
                line.c.end_date,
            )
            .join(contract, contract.c.id == instance.c.contract_id)
            .join(version, version.c.contract_id == contract.c.id)
            .outerjoin(line, and_(line.c.contract_version_id == version.c.id, line.c.line_no == instance.c.line_no))
            .where(
                instance.c.id.in_(instance_ids),
                instance.c.department_id == department_id,
                contract.c.status.in_(_IN_FORCE),
                version.c.status == VersionStatus.APPROVED,
            )
        )
        .all()
    )
    spans: dict[uuid.UUID, list[VersionSpan]] = defaultdict(list)
    contract_of: dict[uuid.UUID, uuid.UUID] = {}
    terminated: dict[uuid.UUID, date | None] = {}
    for instance_id, contract_id, terminated_on, number, effective, end, line_start, line_end in rows:
        spans[instance_id].append(VersionSpan(number, effective, end, line_start, line_end))
        contract_of[instance_id], terminated[instance_id] = contract_id, terminated_on
    return {
        (instance_id, period): contract_of[instance_id]
        for instance_id, period in wanted
        if instance_id in spans and line_in_force(spans[instance_id], period, terminated[instance_id])
    }


def line_in_force(versions: list[VersionSpan], period: Period, terminated_on: date | None) -> bool:
    """Whether the line is in force on at least one day of ``period``."""
    ordered = sorted(versions, key=lambda version: version.number)
    month_end = period.last_day if terminated_on is None else min(period.last_day, terminated_on)
    for position, version in enumerate(ordered):
        if version.line_start is None or version.line_end is None:
            continue
        governs_until = version.end_date
        if position + 1 < len(ordered):
            governs_until = min(governs_until, ordered[position + 1].effective_date - timedelta(days=1))
        first = max(period.first_day, version.effective_date, version.line_start)
        last = min(month_end, governs_until, version.line_end)
        if first <= last:
            return True
    return False
