import uuid
from collections.abc import Collection, Iterable
from dataclasses import replace

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.errors import NotFound
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.notifications.models import Notification, NotificationKind
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.timekeeping import utcnow


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
    """A person reads what is addressed to them and what is addressed to their whole organization (the expiry
    reminders); auditors read everyone's."""
    if actor.is_auditor:
        return query
    mine = or_(
        col(Notification.user_id) == actor.user_id,
        and_(col(Notification.user_id).is_(None), col(Notification.organization_id) == actor.required_organization_id),
    )
    return query.where(mine)


def list_notifications(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    kind: Collection[NotificationKind] | None = None,
    unread: bool | None = None,
) -> Slice[Notification]:
    """Newest first, a cursor page; ``unread=True`` only those not marked read yet."""
    query = _scoped(select(Notification).order_by(col(Notification.id).desc()), actor)
    query = any_of(query, Notification.kind, kind)
    if unread is not None:
        query = query.where(col(Notification.read_at).is_(None) if unread else col(Notification.read_at).is_not(None))
    return keyset(session, query, page)


def mark_read(session: Session, notification_id: uuid.UUID, *, actor: Actor) -> Notification:
    """Mark one of the actor's notifications read (another's is 404); marking it again changes nothing."""
    notification = session.exec(
        _scoped(select(Notification).where(Notification.id == notification_id), _reader(actor))
    ).first()
    if notification is None:
        raise NotFound("notification")
    if notification.read_at is None:
        with audit.change(session, actor=actor, action="notification.read", row=notification):
            notification.read_at = utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, *, actor: Actor) -> int:
    """Mark every unread notification of the actor read, in one audit event per notification; returns how many."""
    unread = session.exec(
        _scoped(select(Notification.id).where(col(Notification.read_at).is_(None)), _reader(actor))  # type: ignore[arg-type]
    ).all()
    if not unread:
        return 0
    now = utcnow()
    session.execute(
        update(Notification).where(col(Notification.id).in_(unread)).values(read_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    audit.append_many(
        session,
        actor=actor,
        action="notification.read",
        object_type="notification",
        changes=[(notification_id, {"read_at": [None, now.isoformat()]}) for notification_id in unread],
    )
    return len(unread)


def _reader(actor: Actor) -> Actor:
    """Marking read is a person's own business: an auditor marks only what is addressed to them, too."""
    if actor.is_auditor:
        return replace(actor, role=None) if actor.organization_id is not None else actor
    return actor
