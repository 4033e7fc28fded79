"""Maintenance windows as records: proposing, reading, and the approved windows the SLA pull cuts out.
The decisions (approve, reject, withdraw) live in flows.py."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Exists, exists
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.instances import service as instances
from monitoring.promql import Window
from opscenter.audit import service as audit
from opscenter.errors import InvalidInput
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.notifications.models import NotificationKind
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.timekeeping import utcnow
from sla.maintenance import notices
from sla.maintenance.models import (
    MaintenanceStatus,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    MaintenanceWindowInstance,
    MaintenanceWindowPublic,
)


def _touches(**match: uuid.UUID) -> Exists:
    """SQL: the window touches an instance with these values (``department_id=…``, ``service_instance_id=…``)."""
    touched = select(MaintenanceWindowInstance.service_instance_id).where(
        MaintenanceWindowInstance.maintenance_window_id == MaintenanceWindow.id
    )
    for name, value in match.items():
        touched = touched.where(getattr(MaintenanceWindowInstance, name) == value)
    return exists(touched)


def _scoped(query: SelectOfScalar[MaintenanceWindow], actor: Actor) -> SelectOfScalar[MaintenanceWindow]:
    """A department sees the windows that touch one of its instances; the others all."""
    return query.where(_touches(department_id=actor.required_organization_id)) if actor.is_department else query


def propose(session: Session, data: MaintenanceWindowCreate, *, actor: Actor) -> MaintenanceWindow:
    """The operator's proposal, made before the window starts."""
    if data.starts_at <= utcnow():
        raise InvalidInput("starts_at", "a maintenance window is proposed before it starts")
    ids = list(dict.fromkeys(data.service_instance_ids))
    found = {instance.id: instance for instance in instances.instances_by_id(session, ids, actor=actor)}
    for position, instance_id in enumerate(data.service_instance_ids):
        if instance_id not in found:
            raise InvalidInput(f"service_instance_ids.{position}", "no such service instance")
    window = MaintenanceWindow(
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
        proposed_by_id=actor.user_id,
        instance_ids=[str(instance_id) for instance_id in ids],
    )
    session.add(window)
    session.flush()
    session.add_all(
        MaintenanceWindowInstance(
            maintenance_window_id=window.id,
            service_instance_id=instance_id,
            department_id=found[instance_id].department_id,
        )
        for instance_id in ids
    )
    audit.record_create(session, actor=actor, action="maintenance_window.propose", row=window)
    notices.tell(session, window, NotificationKind.MAINTENANCE_PROPOSED, actor=actor)
    session.flush()
    return window


def get_window(session: Session, window_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> MaintenanceWindow:
    return get_visible(
        session,
        MaintenanceWindow,
        window_id,
        actor=actor,
        scope=_scoped,
        noun="maintenance window",
        for_update=for_update,
    )


def to_public(session: Session, windows: Sequence[MaintenanceWindow], *, actor: Actor) -> list[MaintenanceWindowPublic]:
    """The windows as ``actor`` may read them, in one query whatever their number. A window may touch several
    departments' instances; a department reads only its own among them, as if the others were absent."""
    if not actor.is_department:
        return [_public(window, window.service_instance_ids) for window in windows]
    own: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if windows:
        touched = MaintenanceWindowInstance
        rows = session.exec(
            select(touched.maintenance_window_id, touched.service_instance_id).where(
                col(touched.maintenance_window_id).in_([window.id for window in windows]),
                touched.department_id == actor.required_organization_id,
            )
        ).all()
        for window_id, instance_id in rows:
            own[window_id].add(instance_id)
    return [
        _public(window, [instance for instance in window.service_instance_ids if instance in own[window.id]])
        for window in windows
    ]


def _public(window: MaintenanceWindow, instance_ids: list[uuid.UUID]) -> MaintenanceWindowPublic:
    return MaintenanceWindowPublic.model_validate(window, update={"service_instance_ids": instance_ids})


def list_windows(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: Collection[MaintenanceStatus] | None = None,
    service_instance_id: uuid.UUID | None = None,
) -> Slice[MaintenanceWindow]:
    query = _scoped(select(MaintenanceWindow).order_by(col(MaintenanceWindow.id).desc()), actor)
    query = any_of(query, MaintenanceWindow.status, status)
    if service_instance_id is not None:
        query = query.where(_touches(service_instance_id=service_instance_id))
    return keyset(session, query, page)


def approved_windows(
    session: Session, instance_ids: Collection[uuid.UUID], *, start: datetime, end: datetime
) -> dict[uuid.UUID, list[Window]]:
    """The approved windows of each instance that overlap [start, end), in one query (for the SLA pull)."""
    if not instance_ids:
        return {}
    rows = session.exec(
        select(MaintenanceWindowInstance.service_instance_id, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at)
        .join(MaintenanceWindow, col(MaintenanceWindow.id) == MaintenanceWindowInstance.maintenance_window_id)
        .where(
            MaintenanceWindow.status == MaintenanceStatus.APPROVED,
            MaintenanceWindow.starts_at < end,
            MaintenanceWindow.ends_at > start,
        )
    ).all()
    wanted = set(instance_ids)
    by_instance: dict[uuid.UUID, list[Window]] = defaultdict(list)
    for instance_id, starts_at, ends_at in rows:
        if instance_id in wanted:
            by_instance[instance_id].append(Window.of(starts_at, ends_at))
    return dict(by_instance)
