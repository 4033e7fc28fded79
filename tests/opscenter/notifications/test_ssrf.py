"""Receivers cannot be turned against the intranet: a URL naming a loopback, private, link-local or metadata
address is refused when saved, and a name that resolves to one is refused at delivery time, before any
connection (the transport under the check fails the test if it is ever asked to connect)."""

import httpx
import pytest

from opscenter.db import Database
from opscenter.notifications.jobs import deliver_due, fan_out_pending
from opscenter.notifications.safety import Policy, SafeTransport, UnsafeTarget
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory, make_settings
from tests.factories import World


def no_connection(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"a connection was attempted to {request.url}")


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://224.0.0.1/hook",
        "http://receiver.example.org/hook",  # http without the admin's setting
        "ftp://receiver.example.org/hook",
    ],
)
def test_a_forbidden_receiver_url_is_refused_when_saved(world: World, api: ApiFactory, url: str) -> None:
    answer = api.as_(world.department).post("/api/v1/webhook-subscriptions", {"url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"
    assert api.as_(world.department).get("/api/v1/webhook-subscriptions").json()["items"] == []


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "192.168.1.20", "127.0.0.1", "fd00::1"])
def test_a_name_that_resolves_to_a_forbidden_address_is_refused_before_connecting(address: str) -> None:
    transport = SafeTransport(Policy(), resolver=lambda host, port: [address], inner=httpx.MockTransport(no_connection))
    with httpx.Client(transport=transport) as client, pytest.raises(UnsafeTarget):
        client.post("https://hooks.department.example/opscenter", content=b"{}")


def test_a_name_with_one_forbidden_address_among_public_ones_is_refused() -> None:
    transport = SafeTransport(
        Policy(), resolver=lambda host, port: ["93.184.216.34", "10.0.0.1"], inner=httpx.MockTransport(no_connection)
    )
    with httpx.Client(transport=transport) as client, pytest.raises(UnsafeTarget):
        client.post("https://rebinding.example/hook", content=b"{}")


def test_a_public_address_is_connected_to_as_checked_with_the_name_kept() -> None:
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    transport = SafeTransport(
        Policy(), resolver=lambda host, port: ["93.184.216.34"], inner=httpx.MockTransport(receiver)
    )
    with httpx.Client(transport=transport) as client:
        assert client.post("https://hooks.department.example/x", content=b"{}").status_code == 204
    assert seen[0].url.host == "93.184.216.34"  # the checked address, not a second lookup
    assert seen[0].headers["host"] == "hooks.department.example"
    assert seen[0].extensions["sni_hostname"] == "hooks.department.example"


def test_the_worker_refuses_a_subscription_whose_name_now_resolves_inside(
    world: World, api: ApiFactory, db: Database, database_url: str
) -> None:
    """Saved while public, resolving to 10.0.0.1 at delivery (DNS rebinding): a dead letter, no packet sent."""
    hook = api.as_(world.department).post(
        "/api/v1/webhook-subscriptions", {"url": "https://hooks.department.example/x"}
    )
    assert hook.status_code == 201, hook.text
    assert api.as_(world.department).post(f"/api/v1/webhook-subscriptions/{hook.json()['id']}/test").status_code == 202
    settings: Settings = make_settings(database_url)
    transport = SafeTransport(
        Policy(), resolver=lambda host, port: ["10.0.0.1"], inner=httpx.MockTransport(no_connection)
    )
    fan_out_pending(db, utcnow())
    with httpx.Client(transport=transport) as client:
        deliver_due(db, settings, client, worker="test")
    [delivery] = (
        api.as_(world.department).get(f"/api/v1/webhook-subscriptions/{hook.json()['id']}/deliveries").json()["items"]
    )
    assert delivery["status"] == "dead"
    assert "not a public address" in delivery["attempt_log"][0]["error"]
