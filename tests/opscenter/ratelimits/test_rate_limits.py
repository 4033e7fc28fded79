"""Rate limits: per API key, per client address without one, per route class; refused credentials lock an address
out for the window; X-Forwarded-For believed from trusted proxies only; counts shared through Redis."""

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.handlers import HTTPRouteHandler

from opscenter.app import create_app
from opscenter.ratelimits.middleware import BATCHES, EXPORTS, READS, WRITES, route_class
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import make_settings
from tests.factories import World
from tests.redis import redis_server
from tests.support import RunningServer, scrape

LIMITS = {"rate_limit_reads": 3, "rate_limit_writes": 2, "rate_limit_refused": 3, "rate_limit_window_seconds": 60}


def limited(settings: Settings, **overrides: object) -> Settings:
    return make_settings(settings.database_url, **{**LIMITS, **overrides})


@pytest.fixture(scope="module")
def behind_proxy(settings: Settings) -> Iterator[RunningServer]:
    """A server behind a trusted reverse proxy on 127.0.0.1: each test is its own client address (X-Forwarded-For)."""
    with RunningServer(create_app(limited(settings, trusted_proxies="127.0.0.1/32"))) as running:
        yield running


def client(server: RunningServer, address: str, key: str | None = None) -> httpx.Client:
    headers = {"X-Forwarded-For": address}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return loopback.client(base_url=server.base_url, headers=headers, timeout=30)


def test_a_key_past_its_read_quota_is_answered_429_with_when_to_retry(
    behind_proxy: RunningServer, world: World
) -> None:
    with client(behind_proxy, "10.1.0.1", world.department.key) as department:
        answers = [department.get("/api/v1/me") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"] == '"reads";q=3;w=60'
    assert answers[0].headers["RateLimit"].startswith('"reads";r=2;t=')
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:opscenter:problem:rate-limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit"] == f'"reads";r=0;t={refused.headers["Retry-After"]}'


def test_each_key_and_each_class_has_its_own_quota(behind_proxy: RunningServer, world: World) -> None:
    with client(behind_proxy, "10.1.0.2", world.bureau.key) as bureau:
        assert [bureau.get("/api/v1/me").status_code for _ in range(4)][-1] == 429
        # the writes of the same key are counted apart from its reads
        write = bureau.post("/api/v1/budgets", json={})
        assert write.status_code == 422
        assert write.headers["RateLimit-Policy"] == '"writes";q=2;w=60'
    with client(behind_proxy, "10.1.0.2", world.operator.key) as operator:  # same address, another key
        assert operator.get("/api/v1/me").status_code == 200


def test_a_request_without_a_key_is_counted_against_its_address(behind_proxy: RunningServer) -> None:
    with client(behind_proxy, "10.1.0.3") as anonymous:
        assert [anonymous.get("/health").status_code for _ in range(4)] == [200, 200, 200, 429]
    with client(behind_proxy, "10.1.0.4") as neighbour:
        assert neighbour.get("/health").status_code == 200


def test_refused_keys_lock_their_address_out_and_are_logged_without_the_key(
    behind_proxy: RunningServer, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = _refused_count(behind_proxy)
    guesses = [f"opc_guess{n:04d}xxxxxxxxxxxxxxxx" for n in range(5)]
    with caplog.at_level(logging.WARNING, logger="opscenter.auth"):
        answers: list[httpx.Response] = []
        for guess in guesses:
            with client(behind_proxy, "10.1.0.5", guess) as guesser:
                answers.append(guesser.get("/api/v1/me", headers={"X-Request-ID": f"guess-{len(answers)}"}))
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429]
    assert answers[3].headers["RateLimit-Policy"] == '"refused";q=3;w=60'
    with client(behind_proxy, "10.1.0.5", world.admin.key) as same_address:  # even a good key, until the window ends
        assert same_address.get("/api/v1/me").status_code == 429
    lines = [record.getMessage() for record in caplog.records if "credential refused" in record.getMessage()]
    assert len(lines) == 3
    assert all("client=10.1.0.5" in line for line in lines)
    assert "request_id=guess-0" in lines[0]
    assert not any(guess in record.getMessage() for record in caplog.records for guess in guesses)
    assert _refused_count(behind_proxy) - before == 3


def _refused_count(server: RunningServer) -> float:
    for line in scrape(server.base_url, token=None).splitlines():
        if line.startswith('opscenter_auth_refused_total{reason="invalid"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_client_cannot_reset_its_limit_by_rotating_x_forwarded_for(settings: Settings) -> None:
    """Without trusted proxies the header is not believed: every request is the peer's, 127.0.0.1."""
    with RunningServer(create_app(limited(settings))) as direct:
        statuses = []
        for n in range(4):
            with client(direct, f"10.9.0.{n}") as rotating:
                statuses.append(rotating.get("/health").status_code)
    assert statuses == [200, 200, 200, 429]


def test_a_trusted_proxy_is_believed_only_for_the_hop_it_added(behind_proxy: RunningServer) -> None:
    """A client that writes its own X-Forwarded-For before the proxy appends the real address stays itself."""
    statuses = []
    for n in range(4):
        with client(behind_proxy, f"203.0.113.{n}, 10.1.0.6") as forging:
            statuses.append(forging.get("/health").status_code)
    assert statuses == [200, 200, 200, 429]


def test_the_limit_holds_across_processes_sharing_redis(settings: Settings, world: World, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as url:
        shared = limited(settings, redis_url=url)
        with RunningServer(create_app(shared)) as first, RunningServer(create_app(shared)) as second:
            statuses = []
            for server in (first, second, first, second):
                with client(server, "-", world.auditor.key) as auditor:
                    statuses.append(auditor.get("/api/v1/me").status_code)
    assert statuses == [200, 200, 200, 429]


def test_routes_fall_into_their_classes(settings: Settings) -> None:
    app = create_app(settings)
    classes = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler):
                for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                    default = app.request_max_body_size
                    limit = route_class(handler, method, default if isinstance(default, int) else None)
                    classes[method, route.path_format] = limit
    assert classes["GET", "/api/v1/me"] == READS
    assert classes["POST", "/api/v1/purchase-requests"] == WRITES
    assert classes["POST", "/api/v1/ratings/batch"] == BATCHES
    assert classes["POST", "/api/v1/handovers/{batch_id}/items/import"] == BATCHES
    assert classes["GET", "/api/v1/assets/export"] == EXPORTS
    assert classes["GET", "/api/v1/statements/{statement_id}/export"] == EXPORTS
