"""Every error is RFC 9457 problem+json; bad input names its field; production hides internals."""

from collections.abc import Iterator

import pytest

from opscenter.app import create_app
from opscenter.organizations import service as organizations
from opscenter.settings import Settings
from tests import loopback
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
    first = admin.get("/api/v1/users", params={"limit": "3", "count": "true"}).json()
    assert set(first) == {"items", "limit", "next_cursor", "total"}
    assert admin.get("/api/v1/users", params={"limit": "3"}).json()["total"] is None, "no COUNT unless asked"
    seen = [user["id"] for user in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = admin.get("/api/v1/users", params={"limit": "3", "cursor": cursor}).json()
        seen += [user["id"] for user in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == first["total"] == 7


def test_a_body_over_the_limit_is_413(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).http.post(
        "/api/v1/organizations",
        content=b'{"name": "' + b"x" * 2_000_000 + b'", "kind": "department"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "The request body is larger than 1048576 bytes (1 MiB), the most this route takes."
    )


def test_a_413_names_the_limit_of_the_route_it_came_from(world: World, api: ApiFactory) -> None:
    """The upload route takes 16 MiB, not the app-wide 1 MiB for JSON: its 413 says so (issue 20)."""
    department = api.as_(world.department)
    batch = department.post("/api/v1/handovers", {"title": "移交", "planned_date": "2027-01-15"}).json()
    response = department.post(
        f"/api/v1/handovers/{batch['id']}/items/import",
        content=b"x" * (16 * 1024 * 1024 + 1),
        headers={"If-Match": '"1"', "Content-Type": "text/csv"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The request body is larger than 16777216 bytes (16 MiB), the most this route takes."
    )


def test_a_body_with_hundreds_of_problems_lists_the_first_200_and_counts_them(world: World, api: ApiFactory) -> None:
    body = {"name": "卫健委", "kind": "department"} | {f"unknown_{n}": n for n in range(300)}
    response = api.as_(world.admin).post("/api/v1/organizations", body)
    assert response.status_code == 422
    problem = response.json()
    assert (len(problem["errors"]), problem["error_count"]) == (200, 300)
    assert problem["detail"].endswith("; and 280 more")


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
def debug_server(settings: Settings) -> Iterator[RunningServer]:
    with RunningServer(create_app(make_settings(settings.database_url, debug=True))) as running:
        yield running


def test_default_settings_hide_tracebacks_and_sql(world: World, failing_list: None, api: ApiFactory) -> None:
    response = api.as_(world.admin).get("/api/v1/organizations")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:opscenter:problem:internal",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An internal error occurred; it has been logged.",
        "request_id": response.headers["x-request-id"],  # the id its log line carries
    }
    assert "SELECT" not in response.text
    assert ".py" not in response.text
    assert len(response.headers.get_list("x-request-id")) == 1


def test_a_debug_server_shows_what_went_wrong(world: World, failing_list: None, debug_server: RunningServer) -> None:
    response = loopback.get(
        f"{debug_server.base_url}/api/v1/organizations", headers={"Authorization": f"Bearer {world.admin.key}"}
    )
    assert response.status_code == 500
    assert "SELECT password" in response.text
    assert "traceback" in response.json()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/nothing-at-all", 404),
        ("DELETE", "/api/v1/organizations", 405),
        ("GET", "/api/v1/contracts/not-a-uuid", 404),
        ("GET", f"/api/v1/contracts/01a21ce5-662f-7bdf-87f6-32407b9e9fef/versions/{10**20}", 400),
        ("GET", "/api/v1/users?limit=ten", 400),
    ],
)
def test_every_answer_carries_one_request_id(
    world: World, api: ApiFactory, method: str, path: str, status: int
) -> None:
    who = api.as_(world.bureau if "contracts" in path else world.admin)
    response = who.http.request(method, path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.headers.get_list("x-request-id")) == 1
    offered = who.http.request(method, path, headers={"X-Request-ID": "trace-42"})
    assert offered.headers.get_list("x-request-id") == ["trace-42"]
