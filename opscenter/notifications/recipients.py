"""Who hears what (DESIGN §9): an event's audience (``AUDIENCE``: the bureau, the operations center, the admin,
the departments it names) becomes one notification per person who has not muted its kind, and one delivery per
channel each receiver chose: a person's email, an organization's group robots, its webhook subscriptions.

A department hears only of events that name it (``NotificationEvent.department_ids``), by every channel.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from opscenter.db import core_table, insert_rows, new_id
from opscenter.identity.models import Organization, OrgKind, Role, User
from opscenter.notifications.delivery_models import (
    Channel,
    DeliveryStatus,
    NotificationDelivery,
    NotificationPreference,
    WebhookSubscription,
)
from opscenter.notifications.models import AUDIENCE, Notification, NotificationEvent, NotificationKind, Party

_ROLE_OF_PARTY = {Party.BUREAU: Role.BUREAU, Party.OPERATOR: Role.OPERATOR, Party.ADMIN: Role.ADMIN}
_KIND_OF_PARTY = {Party.BUREAU: OrgKind.BUREAU, Party.OPERATOR: OrgKind.OPERATOR, Party.ADMIN: OrgKind.BUREAU}


@dataclass
class Directory:
    """What fan-out reads once per batch of events: people, organizations, preferences, subscriptions."""

    users: list[tuple[uuid.UUID, uuid.UUID, Role]]  # (user, organization, role), active ones
    org_kinds: dict[uuid.UUID, OrgKind]
    preferences: dict[str, NotificationPreference]
    subscriptions: list[WebhookSubscription] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session) -> "Directory":
        users = session.exec(select(User.id, User.organization_id, User.role).where(col(User.is_active))).all()
        kinds = dict(session.exec(select(Organization.id, Organization.kind)).all())
        preferences = {row.scope: row for row in session.exec(select(NotificationPreference))}
        subscriptions = list(session.exec(select(WebhookSubscription).where(col(WebhookSubscription.active))))
        people = [(user, organization, Role(role)) for user, organization, role in users]
        return cls(people, {org: OrgKind(kind) for org, kind in kinds.items()}, preferences, subscriptions)

    def preference(self, organization_id: uuid.UUID, user_id: uuid.UUID | None = None) -> NotificationPreference | None:
        return self.preferences.get(scope_of(organization_id, user_id))


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What fan-out reads of an event (plain columns: no ORM object per event in a batch of hundreds)."""

    id: uuid.UUID
    kind: NotificationKind
    department_ids: list[str]
    title: str
    body: str
    object_type: str
    object_id: str
    created_at: datetime


EVENT_COLUMNS = [core_table(NotificationEvent).c[name] for name in EventFacts.__slots__]


def scope_of(organization_id: uuid.UUID, user_id: uuid.UUID | None = None) -> str:
    return str(organization_id) if user_id is None else f"{organization_id}:{user_id}"


def audience_organizations(event: EventFacts, directory: Directory) -> set[uuid.UUID]:
    """The organizations that may hear of ``event``: by kind for the bureau and the operations center, by name for
    departments."""
    parties = AUDIENCE[event.kind]
    found = {org for org, kind in directory.org_kinds.items() if any(_KIND_OF_PARTY.get(p) == kind for p in parties)}
    if Party.DEPARTMENT in parties:
        found |= {uuid.UUID(department) for department in event.department_ids}
    return found


def recipients(event: EventFacts, directory: Directory) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(person, organization) of everyone who hears of ``event`` and has not muted it (nor has their
    organization)."""
    parties = AUDIENCE[event.kind]
    roles = {_ROLE_OF_PARTY[party] for party in parties if party in _ROLE_OF_PARTY}
    departments = set(event.department_ids) if Party.DEPARTMENT in parties else set()
    chosen = []
    for user, organization, role in directory.users:
        hears = role in roles or (role == Role.DEPARTMENT and str(organization) in departments)
        if hears and not _muted(event, directory, organization, user):
            chosen.append((user, organization))
    return chosen


def _muted(event: EventFacts, directory: Directory, organization: uuid.UUID, user: uuid.UUID | None) -> bool:
    for preference in (directory.preference(organization), directory.preference(organization, user)):
        if preference is not None and event.kind.value in preference.muted_kinds:
            return True
    return False


def fan_out(session: Session, events: Sequence[EventFacts], directory: Directory, now: datetime) -> int:
    """Write each event's notifications and deliveries (bulk inserts); returns how many deliveries."""
    notifications: list[dict[str, object]] = []
    deliveries: list[dict[str, object]] = []
    for event in events:
        people = recipients(event, directory)
        for user, organization in people:
            notifications.append(_notification(event, user, organization))
            personal = directory.preference(organization, user)
            channels = (personal or directory.preference(organization) or _NONE).channels
            if personal is not None and personal.email and Channel.EMAIL.value in channels:
                deliveries.append(_delivery(event, Channel.EMAIL, organization, now, user=user, address=personal.email))
        for organization in audience_organizations(event, directory):
            if _muted(event, directory, organization, None):
                continue
            chosen = directory.preference(organization)
            if chosen is not None and Channel.WECOM.value in chosen.channels and chosen.wecom_url:
                deliveries.append(_delivery(event, Channel.WECOM, organization, now))
            if chosen is not None and Channel.DINGTALK.value in chosen.channels and chosen.dingtalk_url:
                deliveries.append(_delivery(event, Channel.DINGTALK, organization, now))
            for subscription in directory.subscriptions:
                if subscription.organization_id == organization and (
                    not subscription.kinds or event.kind.value in subscription.kinds
                ):
                    deliveries.append(
                        _delivery(event, Channel.WEBHOOK, organization, now, subscription=subscription.id)
                    )
    done = [event.id for event in events]
    session.execute(
        update(NotificationEvent)
        .where(col(NotificationEvent.id).in_(done))
        .values(fanned_out_at=now)
        .execution_options(synchronize_session=False)
    )
    insert_rows(session, core_table(Notification), notifications)
    insert_rows(session, core_table(NotificationDelivery), deliveries)
    return len(deliveries)


_NONE = NotificationPreference(scope="", organization_id=uuid.UUID(int=0))


def _notification(event: EventFacts, user: uuid.UUID, organization: uuid.UUID) -> dict[str, object]:
    return {
        "id": new_id(),
        "organization_id": organization,
        "user_id": user,
        "kind": event.kind,
        "title": event.title,
        "body": event.body,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "created_at": event.created_at,
        "read_at": None,
        "dedupe_key": f"event:{event.id}:{user}",
        "event_id": event.id,
    }


def _delivery(
    event: EventFacts,
    channel: Channel,
    organization: uuid.UUID,
    now: datetime,
    *,
    user: uuid.UUID | None = None,
    address: str = "",
    subscription: uuid.UUID | None = None,
) -> dict[str, object]:
    return {
        "id": new_id(),
        "event_id": event.id,
        "channel": channel,
        "organization_id": organization,
        "user_id": user,
        "subscription_id": subscription,
        "address": address,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "delivered_at": None,
        "last_error": "",
    }
