"""Every error is RFC 9457 problem+json; bad input names its field; production hides internals."""

from collections.abc import Iterator

import httpx
import pytest

from opscenter.app import create_app
from opscenter.organizations import service as organizations
from opscenter.settings import Settings
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.support import RunningServer


def test_a_body_that_breaks_the_schema_is_422_naming_each_field(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).post("/api/v1/organizations", {"name": "", "kind": "ministry"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].startswith("urn:opscenter:problem:")
    assert len(response.headers.get_list("x-request-id")) == 1
    assert {error["field"] for error in problem["errors"]} == {"name", "kind"}


def test_a_body_that_is_not_json_is_a_4xx_problem(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).http.post("/api/v1/organizations", content=b"{not json")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


def test_a_bad_query_value_is_400_naming_the_parameter(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).get("/api/v1/organizations", params={"kind": "ministry"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_a_page_larger_than_the_bound_is_400_not_a_silent_clamp(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    assert admin.get("/api/v1/users", params={"limit": "200"}).status_code == 200
    too_large = admin.get("/api/v1/users", params={"limit": "201"})
    assert too_large.status_code == 400
    assert too_large.json()["errors"] == [{"field": "limit", "message": "must be at most 200"}]


def test_lists_share_one_envelope_and_page_through_everything(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    first = admin.get("/api/v1/users", params={"limit": "3"}).json()
    assert set(first) == {"items", "total", "limit", "offset"}
    seen = [user["id"] for user in first["items"]]
    offset = 3
    while offset < first["total"]:
        seen += [
            user["id"]
            for user in admin.get("/api/v1/users", params={"limit": "3", "offset": str(offset)}).json()["items"]
        ]
        offset += 3
    assert len(seen) == len(set(seen)) == first["total"] == 7


def test_a_body_over_the_limit_is_413(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).http.post(
        "/api/v1/organizations",
        content=b'{"name": "' + b"x" * 2_000_000 + b'", "kind": "department"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_routes_and_methods_are_problems_too(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    assert admin.get("/api/v1/nothing-here").headers["content-type"] == "application/problem+json"
    not_allowed = admin.delete("/api/v1/organizations")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["content-type"] == "application/problem+json"


@pytest.fixture
def failing_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inject a fault no real request can produce on demand: an unexpected exception carrying SQL."""

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT password FROM secrets WHERE 1=1")

    monkeypatch.setattr(organizations, "list_organizations", explode)


@pytest.fixture
def production_server(settings: Settings) -> Iterator[RunningServer]:
    with RunningServer(create_app(make_settings(settings.database_url, debug=False))) as running:
        yield running


def test_default_settings_hide_tracebacks_and_sql(
    world: World, failing_list: None, production_server: RunningServer, api: ApiFactory
) -> None:
    response = httpx.get(
        f"{production_server.base_url}/api/v1/organizations",
        headers={"Authorization": f"Bearer {world.admin.key}"},
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "SELECT" not in response.text
    assert "traceback" not in response.json()
    # while a developer's server shows what went wrong
    developer = api.as_(world.admin).get("/api/v1/organizations")
    assert developer.status_code == 500
    assert "SELECT password" in developer.text
