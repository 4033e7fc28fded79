"""Provisioning: one service instance per approved contract line, identified in Prometheus by labels."""

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.agreements import service as agreements
from contracts.agreements.models import ContractStatus
from contracts.catalog.models import CatalogService
from contracts.instances.models import (
    InstanceStatus,
    ServiceInstance,
    ServiceInstanceCreate,
    ServiceInstancePublic,
    ServiceInstanceUpdate,
)
from monitoring.promql import selector
from opscenter.audit import service as audit
from opscenter.db import core_table
from opscenter.errors import Conflict, FieldError, InvalidInput, referenced
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.workflow import require_status


def provision(session: Session, data: ServiceInstanceCreate, *, actor: Actor) -> ServiceInstance:
    with referenced("contract_id"):
        contract = agreements.get_contract(session, data.contract_id, actor=actor)
    require_status(contract.status, ContractStatus.APPROVED, doing="provision for", noun="contract")
    current = agreements.get_version(session, contract, contract.current_version, actor=actor)
    line = next((line for line in current.lines if line.line_no == data.line_no), None)
    if line is None:
        raise InvalidInput("line_no", f"contract {contract.number} has no line {data.line_no}")
    existing = session.exec(
        select(ServiceInstance).where(
            ServiceInstance.contract_id == contract.id, ServiceInstance.line_no == line.line_no
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"Line {line.line_no} of {contract.number} already has an instance.",
            errors=[FieldError("line_no", "already provisioned")],
        )
    instance = ServiceInstance(
        name=data.name,
        label_matchers=data.label_matchers,
        contract_id=contract.id,
        line_no=line.line_no,
        service_id=line.service_id,
        department_id=line.department_id,
        created_by_id=actor.user_id,
    )
    session.add(instance)
    audit.record_create(session, actor=actor, action="service_instance.create", row=instance)
    session.flush()
    return instance


def _scoped(query: SelectOfScalar[ServiceInstance], actor: Actor) -> SelectOfScalar[ServiceInstance]:
    """A department sees the instances of its own contract lines; the others all."""
    return (
        query.where(ServiceInstance.department_id == actor.required_organization_id) if actor.is_department else query
    )


def get_instance(session: Session, instance_id: uuid.UUID, *, actor: Actor) -> ServiceInstance:
    return get_visible(session, ServiceInstance, instance_id, actor=actor, scope=_scoped, noun="service instance")


def visible_instance_ids(session: Session, instance_ids: Collection[uuid.UUID], *, actor: Actor) -> set[uuid.UUID]:
    """Which of ``instance_ids`` exist and ``actor`` may see, in one query (for links from other domains)."""
    if not instance_ids:
        return set()
    query = _scoped(select(ServiceInstance).where(col(ServiceInstance.id).in_(instance_ids)), actor)
    return {instance.id for instance in session.exec(query).all()}


def instances_by_id(session: Session, instance_ids: Collection[uuid.UUID], *, actor: Actor) -> list[ServiceInstance]:
    """Those of ``instance_ids`` that exist and ``actor`` may see, in one query."""
    if not instance_ids:
        return []
    return list(session.exec(_scoped(select(ServiceInstance).where(col(ServiceInstance.id).in_(instance_ids)), actor)))


def list_instances(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    contract_id: uuid.UUID | None = None,
    status: Collection[InstanceStatus] | None = None,
) -> Slice[ServiceInstance]:
    query = _scoped(select(ServiceInstance).order_by(col(ServiceInstance.id)), actor)
    if contract_id is not None:
        query = query.where(ServiceInstance.contract_id == contract_id)
    query = any_of(query, ServiceInstance.status, status)
    return keyset(session, query, page)


def update_instance(
    session: Session, instance_id: uuid.UUID, data: ServiceInstanceUpdate, *, actor: Actor, expected_version: int
) -> ServiceInstance:
    instance = get_instance(session, instance_id, actor=actor)
    instance.require_version(expected_version)
    with audit.change(session, actor=actor, action="service_instance.update", row=instance):
        if data.name is not None:
            instance.name = data.name
        if data.label_matchers is not None:
            instance.label_matchers = data.label_matchers
    session.flush()
    return instance


def decommission(session: Session, instance_id: uuid.UUID, *, actor: Actor, expected_version: int) -> ServiceInstance:
    instance = get_instance(session, instance_id, actor=actor)
    instance.require_version(expected_version)
    if instance.status == InstanceStatus.DECOMMISSIONED:
        return instance
    with audit.change(session, actor=actor, action="service_instance.decommission", row=instance):
        instance.status = InstanceStatus.DECOMMISSIONED
    session.flush()
    return instance


def to_public(session: Session, instances: Sequence[ServiceInstance]) -> list[ServiceInstancePublic]:
    """The public answers of ``instances``, with the PromQL selector of each one's SLI: one query for the
    services of the whole page."""
    service_ids = {instance.service_id for instance in instances}
    metric_of: dict[uuid.UUID, str] = {}
    if service_ids:
        table = core_table(CatalogService)
        query = sa_select(table.c.id, table.c.sli_metric).where(table.c.id.in_(service_ids))
        metric_of = dict(session.connection().execute(query).all())
    return [
        ServiceInstancePublic.model_validate(
            instance, update={"sli_selector": selector(metric_of[instance.service_id], instance.label_matchers)}
        )
        for instance in instances
    ]


def to_public_one(session: Session, instance: ServiceInstance) -> ServiceInstancePublic:
    return to_public(session, [instance])[0]


def instance_ids_by_line(
    session: Session, contract_ids: Collection[uuid.UUID] | None
) -> dict[tuple[uuid.UUID, int], uuid.UUID]:
    """The instance of each (contract, line_no) of ``contract_ids`` (or of every contract), in one query
    (billing reads a line's ratings through it)."""
    if contract_ids is not None and not contract_ids:
        return {}
    table = core_table(ServiceInstance)  # a Core query: thousands of rows, no ORM objects needed
    query = sa_select(table.c.contract_id, table.c.line_no, table.c.id)
    if contract_ids is not None:
        query = query.where(table.c.contract_id.in_(contract_ids))
    rows = session.connection().execute(query)
    return {(contract_id, line_no): instance_id for contract_id, line_no, instance_id in rows}
