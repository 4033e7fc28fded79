"""Which service instances a department may rate for a month: its own, under a contract line in force then
(what "in force" means: contracts/agreements/activity.py)."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import and_, bindparam, select
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
    rows = (
        session.connection()
        .execute(_IN_USE, {"instance_ids": list(instance_ids), "department_id": department_id})
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


_INSTANCE, _CONTRACT, _VERSION, _LINE = (
    core_table(model) for model in (ServiceInstance, Contract, ContractVersion, ContractLine)
)
# Built once, executed with parameters: every rating asks it, and building it cost more than running it.
_IN_USE = (
    select(
        _INSTANCE.c.id,
        _INSTANCE.c.contract_id,
        _CONTRACT.c.terminated_on,
        _VERSION.c.number,
        _VERSION.c.effective_date,
        _VERSION.c.end_date,
        _LINE.c.start_date,
        _LINE.c.end_date,
    )
    .join(_CONTRACT, _CONTRACT.c.id == _INSTANCE.c.contract_id)
    .join(_VERSION, _VERSION.c.contract_id == _CONTRACT.c.id)
    .outerjoin(_LINE, and_(_LINE.c.contract_version_id == _VERSION.c.id, _LINE.c.line_no == _INSTANCE.c.line_no))
    .where(
        _INSTANCE.c.id.in_(bindparam("instance_ids", expanding=True)),
        _INSTANCE.c.department_id == bindparam("department_id"),
        _CONTRACT.c.status.in_(_IN_FORCE),
        _VERSION.c.status == VersionStatus.APPROVED,
    )
)


def line_in_force(versions: list[VersionSpan], period: Period, terminated_on: date | None) -> bool:
    """Whether the line is in force on at least one day of ``period``."""
    return bool(days_in_force(versions, period, terminated_on))
