"""Webhook subscriptions: an organization's systems hear of the events the organization may see, filtered by kind,
each delivery signed with the subscription's secret (Standard Webhooks). The secret is shown once, when made or
rotated, and kept encrypted. A test delivery goes through the worker like any other: a request never waits on a
receiver."""

import uuid

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.errors import NotFound
from opscenter.identity.actor import Actor
from opscenter.notifications import secrets
from opscenter.notifications.delivery_models import (
    Channel,
    DeliveryAttempt,
    NotificationDelivery,
    SubscriptionIn,
    WebhookSubscription,
)
from opscenter.notifications.models import NotificationEvent, NotificationKind
from opscenter.notifications.safety import check_url, policy_of
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow


def _scoped(query: SelectOfScalar[WebhookSubscription], actor: Actor) -> SelectOfScalar[WebhookSubscription]:
    """An organization sees its own subscriptions; auditors see all."""
    if actor.is_auditor:
        return query
    return query.where(WebhookSubscription.organization_id == actor.required_organization_id)


def get_subscription(
    session: Session, subscription_id: uuid.UUID, *, actor: Actor, for_update: bool = False
) -> WebhookSubscription:
    query = _scoped(select(WebhookSubscription).where(WebhookSubscription.id == subscription_id), actor)
    found = session.exec(query.with_for_update() if for_update else query).first()
    if found is None:
        raise NotFound("webhook subscription")
    return found


def list_subscriptions(session: Session, *, actor: Actor, page: PageRequest) -> Slice[WebhookSubscription]:
    return keyset(
        session, _scoped(select(WebhookSubscription).order_by(col(WebhookSubscription.id).desc()), actor), page
    )


def subscribe(
    session: Session, data: SubscriptionIn, *, actor: Actor, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """A new subscription for the actor's organization, and its secret (to show once)."""
    url = check_url(data.url, policy_of(settings))
    secret = secrets.new_webhook_secret()
    subscription = WebhookSubscription(
        organization_id=actor.required_organization_id,
        url=url,
        description=data.description,
        kinds=sorted({kind.value for kind in data.kinds}),
        secret_encrypted=secrets.encrypt(settings, secret),
        created_by_id=actor.user_id,
    )
    session.add(subscription)
    audit.record_create(session, actor=actor, action="webhook_subscription.create", row=subscription)
    session.flush()
    return subscription, secret


def rotate_secret(
    session: Session, subscription_id: uuid.UUID, *, actor: Actor, expected_version: int, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """A new secret; the old one signs nothing from now on. Re-enables a subscription a 410 disabled."""
    subscription = get_subscription(session, subscription_id, actor=actor, for_update=True)
    subscription.require_version(expected_version)
    secret = secrets.new_webhook_secret()
    with audit.change(session, actor=actor, action="webhook_subscription.rotate_secret", row=subscription):
        subscription.secret_encrypted = secrets.encrypt(settings, secret)
        subscription.active, subscription.disabled_reason = True, ""
        subscription.updated_at = utcnow()  # the secret is not audited (excluded): the version still moves
    session.flush()
    return subscription, secret


def queue_test(session: Session, subscription_id: uuid.UUID, *, actor: Actor) -> NotificationDelivery:
    """A test event for this subscription alone, delivered by the worker like any other."""
    subscription = get_subscription(session, subscription_id, actor=actor)
    now = utcnow()
    event = NotificationEvent(
        kind=NotificationKind.WEBHOOK_TEST,
        object_type="webhook_subscription",
        object_id=str(subscription.id),
        title="Webhook 测试消息",
        body=f"这是 {actor.user_name} 发起的测试投递，收到即表示订阅配置正确。",
        actor_name=actor.user_name[:200],
        fanned_out_at=now,  # addressed to this subscription only: no one else hears of it
    )
    session.add(event)
    session.flush()
    delivery = NotificationDelivery(
        event_id=event.id,
        channel=Channel.WEBHOOK,
        organization_id=subscription.organization_id,
        subscription_id=subscription.id,
        next_attempt_at=now,
    )
    session.add(delivery)
    audit.record_create(session, actor=actor, action="webhook_subscription.test", row=delivery)
    session.flush()
    return delivery


def deliveries_of(
    session: Session, subscription_id: uuid.UUID, *, actor: Actor, page: PageRequest
) -> Slice[NotificationDelivery]:
    """The subscription's deliveries, newest first (its delivery log is ``attempts_of`` each)."""
    subscription = get_subscription(session, subscription_id, actor=actor)
    query = (
        select(NotificationDelivery)
        .where(NotificationDelivery.subscription_id == subscription.id)
        .order_by(col(NotificationDelivery.id).desc())
    )
    return keyset(session, query, page)


def attempts_of(session: Session, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DeliveryAttempt]]:
    found: dict[uuid.UUID, list[DeliveryAttempt]] = {delivery: [] for delivery in delivery_ids}
    if delivery_ids:
        rows = session.exec(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
            .order_by(col(DeliveryAttempt.number))
        )
        for attempt in rows:
            found[attempt.delivery_id].append(attempt)
    return found
