"""Two workers on one PostgreSQL database: each delivery is claimed by one of them (SKIP LOCKED), so every event
reaches its receiver once and every attempt is logged once."""

from collections import Counter

import pytest
from sqlmodel import select

from opscenter.db import Database
from opscenter.notifications.delivery_models import DeliveryAttempt
from opscenter.notifications.jobs import deliver_due, http_client
from opscenter.settings import Settings
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.opscenter.notifications.conftest import LAB
from tests.opscenter.notifications.receivers import http_receiver
from tests.support import race

DELIVERIES = 60


@pytest.mark.postgresql_only
def test_two_workers_never_deliver_the_same_attempt_twice(
    world: World, lab: ApiFactory, db: Database, database_url: str
) -> None:
    settings: Settings = make_settings(database_url, **{**LAB, "delivery_batch": 7})
    with http_receiver(200) as receiver:
        created = lab.as_(world.department).post("/api/v1/webhook-subscriptions", {"url": receiver.url})
        path = f"/api/v1/webhook-subscriptions/{created.json()['id']}/test"
        for _ in range(DELIVERIES):
            assert lab.as_(world.department).post(path).status_code == 202

        def worker(name: str) -> tuple[int, int]:
            with http_client(settings) as client:
                return deliver_due(db, settings, client, worker=name)

        first, second = race(lambda: worker("worker-1"), lambda: worker("worker-2"))

    ids = Counter(received.headers["webhook-id"] for received in receiver.received)
    assert len(ids) == DELIVERIES
    assert set(ids.values()) == {1}
    assert first[1] + second[1] == DELIVERIES
    with db.transaction(write=False) as session:
        log = session.exec(select(DeliveryAttempt.delivery_id, DeliveryAttempt.number, DeliveryAttempt.outcome)).all()
    by_delivery: dict[object, list[tuple[int, str]]] = {}
    for delivery, number, outcome in log:
        by_delivery.setdefault(delivery, []).append((number, outcome))
    assert len(by_delivery) == DELIVERIES
    for attempts in by_delivery.values():  # numbered 1…n, each once, the last the one delivery
        attempts.sort()
        assert [number for number, _ in attempts] == list(range(1, len(attempts) + 1))
        assert [outcome for _, outcome in attempts].count("delivered") == 1
