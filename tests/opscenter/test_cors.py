"""CORS is off unless origins are configured; then exactly those origins may read answers, and their preflight
is answered before authentication (a browser sends it without the key)."""

from collections.abc import Iterator

import httpx
import pytest

from opscenter.app import create_app
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.support import RunningServer

ALLOWED = "https://portal.example.gov.cn"
OTHER = "https://elsewhere.example.com"


def test_no_origin_is_allowed_by_default(api: ApiFactory, world: World) -> None:
    answer = api.as_(world.bureau).get("/api/v1/contracts", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


@pytest.fixture
def with_cors(settings: Settings) -> Iterator[str]:
    configured = make_settings(settings.database_url, cors_origins=f"{ALLOWED}, https://other-portal.example.gov.cn")
    with RunningServer(create_app(configured)) as running:
        yield running.base_url


def test_a_configured_origin_reads_answers_and_another_does_not(with_cors: str, world: World) -> None:
    key = {"Authorization": f"Bearer {world.bureau.key}"}
    allowed = loopback.get(f"{with_cors}/api/v1/contracts", headers={**key, "Origin": ALLOWED})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in allowed.headers
    other = loopback.get(f"{with_cors}/api/v1/contracts", headers={**key, "Origin": OTHER})
    assert "access-control-allow-origin" not in other.headers


def test_the_preflight_of_a_configured_origin_is_answered_without_a_key(with_cors: str) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, idempotency-key"}
    preflight = httpx.options(f"{with_cors}/api/v1/ratings", headers={**ask, "Origin": ALLOWED})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    refused = httpx.options(f"{with_cors}/api/v1/ratings", headers={**ask, "Origin": OTHER})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("origin", ["*", "https://portal.example.gov.cn/path", "portal.example.gov.cn"])
def test_what_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        Settings(cors_origins=origin)
