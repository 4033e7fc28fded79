"""Signed webhooks to departments' systems, delivered by the worker from the outbox: at least once, retried with
backoff, logged per attempt, given up after the last try (a dead letter on /metrics), never retried on a 4xx but
408/429, disabled by a 410, and never in the way of a request."""

import base64
import hashlib
import hmac
import threading
import time
from typing import Any

from opscenter.db import Database
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import Identity, World
from tests.operations.tickets import steps as tickets
from tests.opscenter.notifications.conftest import run_worker
from tests.opscenter.notifications.receivers import HANG, Receiver, http_receiver


def subscribe(api: ApiFactory, who: Identity, url: str, kinds: list[str] | None = None) -> dict[str, Any]:
    created = api.as_(who).post("/api/v1/webhook-subscriptions", {"url": url, "kinds": kinds or []})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def verify(received: Any, secret: str) -> None:
    """What a receiver does (Standard Webhooks): HMAC-SHA256 of id.timestamp.body with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert received.headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 300


def deliveries(api: ApiFactory, who: Identity, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    answer = api.as_(who).get(f"/api/v1/webhook-subscriptions/{subscription['id']}/deliveries")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_500_twice_then_200_is_delivered_once_after_three_logged_attempts(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    instance = tickets.instance(lab, world)
    with http_receiver(500, 500, 200) as receiver:
        hook = subscribe(lab, world.department, receiver.url, ["ticket_acknowledged"])
        assert hook["secret"].startswith("whsec_")
        assert "secret" not in lab.as_(world.department).get(f"/api/v1/webhook-subscriptions/{hook['id']}").json()
        ticket = tickets.open_ticket(lab, world.department, instance, priority="P1")
        tickets.act(lab, world.operator, ticket, "acknowledge")
        run_worker(db, lab_settings)

    assert len(receiver.received) == 3
    for received in receiver.received:
        verify(received, hook["secret"])
    assert len({received.headers["webhook-id"] for received in receiver.received}) == 1  # one event id: dedupable
    event = receiver.received[-1].json()
    assert event["type"] == "ticket_acknowledged"
    assert event["data"]["ticket_id"] == ticket["id"]
    assert event["data"]["department_ids"] == [str(world.department.organization_id)]
    [delivery] = deliveries(lab, world.department, hook)
    assert delivery["status"] == "delivered"
    assert [(a["number"], a["status_code"], a["outcome"]) for a in delivery["attempt_log"]] == [
        (1, 500, "retry"),
        (2, 500, "retry"),
        (3, 200, "delivered"),
    ]


def test_a_department_s_subscription_never_receives_another_department_s_event(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    instance_a = tickets.instance(lab, world)
    with http_receiver(200) as receiver_a, http_receiver(200) as receiver_b:
        subscribe(lab, world.department, receiver_a.url)
        subscribe(lab, world.department_b, receiver_b.url)
        ticket = tickets.open_ticket(lab, world.department, instance_a, priority="P1")
        tickets.act(lab, world.operator, ticket, "acknowledge")
        run_worker(db, lab_settings)
    assert receiver_b.received == []
    got = [received.json() for received in receiver_a.received]  # the setup's purchase events too
    assert ticket["id"] in {event["data"].get("ticket_id") for event in got}
    assert all(event["data"]["department_ids"] == [str(world.department.organization_id)] for event in got)


def test_a_410_disables_the_subscription_and_a_4xx_is_not_retried(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    with http_receiver(410) as gone, http_receiver(400) as refusing:
        retired = subscribe(lab, world.department, gone.url)
        refused = subscribe(lab, world.department, refusing.url)
        for hook in (retired, refused):
            assert lab.as_(world.department).post(f"/api/v1/webhook-subscriptions/{hook['id']}/test").status_code == 202
        run_worker(db, lab_settings)
        assert len(gone.received) == len(refusing.received) == 1
        read = lab.as_(world.department).get(f"/api/v1/webhook-subscriptions/{retired['id']}").json()
        assert read["active"] is False
        assert "410" in read["disabled_reason"]
        assert lab.as_(world.department).post(f"/api/v1/webhook-subscriptions/{retired['id']}/test").status_code == 202
        run_worker(db, lab_settings)
        assert len(gone.received) == 1  # disabled: nothing more is sent to it
    [dead] = deliveries(lab, world.department, refused)
    assert dead["status"] == "dead"
    assert dead["attempts"] == 1


def test_a_hanging_receiver_times_out_is_retried_and_slows_no_request(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    with http_receiver(HANG) as receiver:
        hook = subscribe(lab, world.department, receiver.url)
        asked = time.perf_counter()
        assert lab.as_(world.department).post(f"/api/v1/webhook-subscriptions/{hook['id']}/test").status_code == 202
        assert time.perf_counter() - asked < 1.0  # queued: the request never waits on the receiver
        worker = threading.Thread(target=run_worker, args=(db, lab_settings))
        worker.start()
        _wait_for(receiver, 1)
        asked = time.perf_counter()
        assert lab.as_(world.department).get("/api/v1/notifications").status_code == 200
        assert time.perf_counter() - asked < 1.0  # while the worker waits on the receiver
        worker.join(30)
    [delivery] = deliveries(lab, world.department, hook)
    assert [a["outcome"] for a in delivery["attempt_log"]] == ["retry", "retry", "dead"]
    assert all("timeout" in a["error"] for a in delivery["attempt_log"])
    metrics = lab.as_(None).get("/metrics").text
    assert 'opscenter_notification_dead_letters{channel="webhook"} 1.0' in metrics


def test_a_rotated_secret_signs_from_then_on(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    with http_receiver(200) as receiver:
        hook = subscribe(lab, world.department, receiver.url)
        rotated = lab.as_(world.department).act(f"/api/v1/webhook-subscriptions/{hook['id']}", "rotate-secret")
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != hook["secret"]
        lab.as_(world.department).post(f"/api/v1/webhook-subscriptions/{hook['id']}/test")
        run_worker(db, lab_settings)
    verify(receiver.received[0], rotated.json()["secret"])
    assert receiver.received[0].json()["type"] == "webhook_test"


def _wait_for(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(receiver.received) < count:
        assert time.monotonic() < deadline, "the receiver got nothing"
        time.sleep(0.02)
