import uuid
from collections.abc import Collection, Iterable

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.notifications.models import Notification, NotificationKind
from opscenter.pagination import PageRequest, Slice, keyset


def notify(
    session: Session,
    *,
    actor: Actor,
    organization_ids: Iterable[uuid.UUID],
    kind: NotificationKind,
    title: str,
    body: str,
    object_type: str,
    object_id: uuid.UUID,
    dedupe_key: str,
) -> list[Notification]:
    """Address a notification to each organization, once per ``dedupe_key``: repeats are skipped."""
    recipients = set(organization_ids)
    already = set(
        session.exec(
            select(Notification.organization_id).where(
                Notification.dedupe_key == dedupe_key, col(Notification.organization_id).in_(recipients)
            )
        ).all()
    )
    created = []
    for organization_id in sorted(recipients - already):
        notification = Notification(
            organization_id=organization_id,
            kind=kind,
            title=title,
            body=body,
            object_type=object_type,
            object_id=str(object_id),
            dedupe_key=dedupe_key,
        )
        session.add(notification)
        audit.record_create(session, actor=actor, action="notification.create", row=notification)
        created.append(notification)
    session.flush()
    return created


def _scoped(query: SelectOfScalar[Notification], actor: Actor) -> SelectOfScalar[Notification]:
    """Each organization reads its own notifications; auditors read everyone's."""
    return query if actor.is_auditor else query.where(Notification.organization_id == actor.required_organization_id)


def list_notifications(
    session: Session, *, actor: Actor, page: PageRequest, kind: Collection[NotificationKind] | None = None
) -> Slice[Notification]:
    """Newest first; each organization reads its own, auditors read all."""
    query = _scoped(select(Notification).order_by(col(Notification.id).desc()), actor)
    query = any_of(query, Notification.kind, kind)
    return keyset(session, query, page)
