"""Every answer carries the security headers: a strict Content-Security-Policy on pages (no inline script), a
data-only one on JSON, nosniff, no framing, a same-origin Referer; HSTS only behind TLS."""

import re
from collections.abc import Iterator

import httpx
import pytest

from opscenter.app import create_app
from opscenter.headers import DATA_POLICY, DOCS_POLICY, HSTS, PAGE_POLICY
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.support import RunningServer


def _has_the_common_headers(answer: httpx.Response) -> None:
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/contracts", 200), ("/api/v1/nowhere", 404), ("/health", 200), ("/schema/openapi.json", 200)],
)
def test_json_answers_carry_the_data_policy(api: ApiFactory, world: World, path: str, status: int) -> None:
    answer = api.as_(world.bureau).get(path)
    assert answer.status_code == status
    _has_the_common_headers(answer)
    assert answer.headers["content-security-policy"] == DATA_POLICY
    assert "strict-transport-security" not in answer.headers  # not behind TLS: the test server speaks HTTP


def test_a_refused_credential_and_a_wrong_method_carry_them_too(api: ApiFactory) -> None:
    for answer in (api.with_key("opc_wrong").get("/api/v1/contracts"), api.as_(None).delete("/health")):
        assert answer.status_code in (401, 405)
        _has_the_common_headers(answer)


def test_console_pages_get_the_strict_policy_with_no_inline_script(api: ApiFactory) -> None:
    page = api.as_(None).get("/console/login")
    assert page.status_code == 200
    _has_the_common_headers(page)
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"])
def test_documentation_pages_run_no_inline_script(api: ApiFactory, path: str) -> None:
    page = api.as_(None).get(path)
    assert page.status_code == 200
    _has_the_common_headers(page)
    assert page.headers["content-security-policy"] == DOCS_POLICY
    assert "script-src 'self';" in DOCS_POLICY
    inline = [s for s in re.findall(r"<script([^>]*)>", page.text) if "src=" not in s and "application/json" not in s]
    assert inline == [], "an inline script the policy would refuse"
    assert "/schema/openapi.json" in page.text or "apiDescriptionUrl" in page.text


@pytest.fixture
def behind_tls(settings: Settings) -> Iterator[str]:
    tls = make_settings(settings.database_url, console_secure_cookies=True)
    with RunningServer(create_app(tls)) as running:
        yield running.base_url


def test_hsts_only_when_the_console_is_served_behind_tls(behind_tls: str) -> None:
    answer = loopback.get(f"{behind_tls}/health")
    assert answer.headers["strict-transport-security"] == HSTS
    _has_the_common_headers(answer)
