"""Permission rows: notifications, preferences and webhook subscriptions (each organization its own)."""

import uuid

from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions.table import ADMIN, AUDITOR, BUREAU, DEPARTMENT, EVERYONE, OPERATOR, READERS, Prepared, Row, only

OWNERS = (BUREAU, OPERATOR, DEPARTMENT)
HOOK = {"url": "https://receiver.example.org/opscenter", "kinds": ["ticket_resolved"]}
PREFERENCE = {"channels": [], "muted_kinds": ["statement_paid"]}


def _subscription(world: World, api: ApiFactory) -> Prepared:
    """The department's subscription: the bureau and the operations center get 404 for it, as for a missing one."""
    created = api.as_(world.department).post("/api/v1/webhook-subscriptions", HOOK)
    assert created.status_code == 201, created.text
    path = f"/api/v1/webhook-subscriptions/{created.json()['id']}"
    return Prepared(params={"subscription_id": created.json()["id"]}, etag_of=path)


def _nobody_s_notification(world: World, api: ApiFactory) -> Prepared:
    """An id that names no notification: 404 for every role that may mark one (the real marking is tested in
    tests/opscenter/notifications)."""
    return Prepared(params={"notification_id": str(uuid.uuid4())})


# The department's own subscription: the other owners get 404 (not theirs), auditors read it.
DEPARTMENT_S = only(200, DEPARTMENT, AUDITOR, bureau=404, operator=404)


ROWS = [
    Row("GET", "/api/v1/notifications", only(200, *EVERYONE)),
    Row("POST", "/api/v1/notifications/read-all", only(200, *EVERYONE)),
    Row("GET", "/api/v1/notification-preferences/me", only(200, *EVERYONE)),
    Row("PUT", "/api/v1/notification-preferences/me", only(200, *EVERYONE), lambda w, a: Prepared(body=PREFERENCE)),
    Row("GET", "/api/v1/notification-preferences/organization", only(200, ADMIN, *OWNERS)),
    Row(
        "PUT",
        "/api/v1/notification-preferences/organization",
        only(200, ADMIN, *OWNERS),
        lambda w, a: Prepared(body=PREFERENCE),
    ),
    Row("POST", "/api/v1/webhook-subscriptions", only(201, *OWNERS), lambda w, a: Prepared(body=HOOK)),
    Row("GET", "/api/v1/webhook-subscriptions", only(200, *READERS)),
    Row("GET", "/api/v1/webhook-subscriptions/{subscription_id}", DEPARTMENT_S, _subscription),
    Row("GET", "/api/v1/webhook-subscriptions/{subscription_id}/deliveries", DEPARTMENT_S, _subscription),
    Row(
        "POST",
        "/api/v1/webhook-subscriptions/{subscription_id}/rotate-secret",
        only(200, DEPARTMENT, bureau=404, operator=404),
        _subscription,
    ),
    Row(
        "POST",
        "/api/v1/webhook-subscriptions/{subscription_id}/test",
        only(202, DEPARTMENT, bureau=404, operator=404),
        _subscription,
    ),
    Row("POST", "/api/v1/notifications/{notification_id}/read", only(404, *EVERYONE), _nobody_s_notification),
]
