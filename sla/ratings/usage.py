"""Which service instances a department may rate for a month: its own, under a contract line in force then
(what "in force" means: contracts/agreements/activity.py)."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import and_, select
from sqlmodel import Session

from contracts.agreements.activity import VersionSpan, days_in_force
from contracts.agreements.models import Contract, ContractLine, ContractStatus, ContractVersion, VersionStatus
from contracts.instances.models import ServiceInstance
from opscenter.db import core_table
from opscenter.timekeeping import Period

_IN_FORCE = (ContractStatus.APPROVED, ContractStatus.TERMINATED)


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
    return bool(days_in_force(versions, period, terminated_on))
