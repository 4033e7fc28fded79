"""Webhook subscriptions in the API: made and rotated by the organization's own users (the secret is in those two
answers only), read by auditors too; a test delivery is queued for the worker (202)."""

import uuid
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.notifications import subscriptions
from opscenter.notifications.controller import settings_of
from opscenter.notifications.delivery_models import (
    AttemptPublic,
    DeliveryPublic,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionPublic,
    WebhookSubscription,
)
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, ExpectedVersion, Paging, get, post, respond


def _created(subscription: WebhookSubscription, secret: str) -> SubscriptionCreated:
    public = SubscriptionPublic.model_validate(subscription).model_dump()
    return SubscriptionCreated.model_validate({**public, "secret": secret})


# An organization's own business users manage its subscriptions; auditors read them.
OWNERS = allow(Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT)


class SubscriptionController(Controller):
    path = "/api/v1/webhook-subscriptions"
    tags = ["notifications"]
    guards = [allow(*BUSINESS_ROLES)]

    @post(
        "/",
        guards=[OWNERS],
        description="Subscribe a system of your organization; the answer carries the signing secret, shown this once.",
    )
    def create(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, data: JSONBody[SubscriptionIn]
    ) -> Response[SubscriptionCreated]:
        subscription, secret = subscriptions.subscribe(session, data, actor=actor, settings=settings_of(request))
        return respond(_created(subscription, secret), created=f"{self.path}/{subscription.id}")

    @get("/", description="Your organization's subscriptions (auditors: all).")
    def index(self, session: DbSession, actor: CurrentActor, page: Paging) -> CursorPage[SubscriptionPublic]:
        rows = subscriptions.list_subscriptions(session, actor=actor, page=page)
        return rows.page_of([SubscriptionPublic.model_validate(row) for row in rows])

    @get("/{subscription_id:uuid}")
    def read(
        self, session: DbSession, actor: CurrentActor, subscription_id: FromPath[uuid.UUID]
    ) -> Response[SubscriptionPublic]:
        found = subscriptions.get_subscription(session, subscription_id, actor=actor)
        return respond(SubscriptionPublic.model_validate(found))

    @post(
        "/{subscription_id:uuid}/rotate-secret",
        guards=[OWNERS],
        status_code=200,
        description="A new secret (shown this once); the old one signs nothing more. Re-enables a subscription "
        "that a 410 disabled.",
    )
    def rotate(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        subscription_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Response[SubscriptionCreated]:
        subscription, secret = subscriptions.rotate_secret(
            session, subscription_id, actor=actor, expected_version=expected_version, settings=settings_of(request)
        )
        return respond(_created(subscription, secret))

    @post("/{subscription_id:uuid}/test", guards=[OWNERS], status_code=202,
          description="Queue a signed test event for this subscription; the worker delivers it.")  # fmt: skip
    def test(self, session: DbSession, actor: CurrentActor, subscription_id: FromPath[uuid.UUID]) -> DeliveryPublic:
        delivery = subscriptions.queue_test(session, subscription_id, actor=actor)
        return DeliveryPublic.model_validate({**delivery.model_dump(), "attempt_log": []})

    @get("/{subscription_id:uuid}/deliveries", description="Its deliveries, newest first, each with its attempts.")
    def deliveries(
        self, session: DbSession, actor: CurrentActor, subscription_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[DeliveryPublic]:
        rows = subscriptions.deliveries_of(session, subscription_id, actor=actor, page=page)
        logs = subscriptions.attempts_of(session, [row.id for row in rows])
        return rows.page_of(
            [
                DeliveryPublic.model_validate(
                    {**row.model_dump(), "attempt_log": [AttemptPublic.model_validate(a) for a in logs[row.id]]}
                )
                for row in rows
            ]
        )
