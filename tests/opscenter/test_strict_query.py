"""Every operation reads its query string strictly: a parameter it does not declare, a single-valued one given twice,
an enum value outside its enumeration are each a 400 naming the parameter, never silently ignored."""

import re
import uuid

import pytest
from litestar.routes import HTTPRoute

from opscenter.app import create_app
from opscenter.identity.guards import admitted_roles
from opscenter.identity.models import Role
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import World
from tests.openapi_snapshot import current_document

# Not the API: Litestar's OpenAPI pages, the static files and the console's pages (a browser sends what its links
# and forms carry; opscenter/plugin.py says why).
_EXEMPT = ("/schema", "/static/", "/console")
_SAMPLE = {"uuid": str(uuid.UUID(int=7)), "int": "1", "date": "2027-01-04", "str": "x", "path": "x"}


def _operations(settings: Settings) -> list[tuple[str, str, Role | None]]:
    """(method, path with sample path parameters, a role the guard admits) of every operation of the app."""
    found: list[tuple[str, str, Role | None]] = []
    for route in create_app(settings).routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(_EXEMPT):
            continue
        path = re.sub(r"\{\w+:(\w+)\}", lambda match: _SAMPLE[match.group(1)], route.path)
        for handler in route.route_handlers:
            admitted = admitted_roles(handler)
            role = None if admitted is None else sorted(admitted)[0]
            found += [(method, path, role) for method in handler.http_methods if method not in ("HEAD", "OPTIONS")]
    return found


def test_every_operation_refuses_a_query_parameter_it_does_not_declare(
    settings: Settings, world: World, api: ApiFactory
) -> None:
    operations = _operations(settings)
    assert len(operations) > 100, "the walk found the API"
    for method, path, role in operations:
        caller = api.as_(world.by_role(role) if role is not None else world.admin)
        answer = caller.http.request(method, path, params={"colour": "blue"}, headers={"If-Match": '"1"'})
        assert answer.status_code == 400, (method, path, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in answer.json()["errors"]] == ["colour"], (method, path)


def test_the_refusal_names_every_unknown_parameter_and_what_the_operation_takes(world: World, api: ApiFactory) -> None:
    answer = api.as_(world.bureau).get("/api/v1/purchase-requests", params={"search": "证书", "sort_by": "id"})
    assert answer.status_code == 400
    errors = {error["field"]: error["message"] for error in answer.json()["errors"]}
    assert set(errors) == {"search", "sort_by"}
    assert "cursor, department_id, limit, q, sort, status" in errors["search"]


def test_a_single_valued_parameter_given_twice_is_refused(world: World, api: ApiFactory) -> None:
    answer = api.as_(world.bureau).get("/api/v1/tickets", params=[("limit", "1"), ("limit", "2")])
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "limit", "message": "is given 2 times; it takes one value"}]


@pytest.mark.parametrize(
    ("path", "parameter", "expected"),
    [
        ("/api/v1/tickets", "status", "acknowledged (已受理)"),
        ("/api/v1/tickets", "priority", "P1 (紧急)"),
        ("/api/v1/statements", "status", "approved (已批准)"),
        ("/api/v1/assets", "state", "operated"),
        ("/api/v1/users", "role", "auditor"),
    ],
)
def test_an_enum_error_in_the_query_lists_the_values_with_their_labels(
    world: World, api: ApiFactory, path: str, parameter: str, expected: str
) -> None:
    answer = api.as_(world.auditor).get(path, params={parameter: "bogus"})
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["field"] == parameter
    assert error["message"].startswith("'bogus' is not one of: ")
    assert expected in error["message"]
    assert re.search(r"\w+ \([^)]+\), ", error["message"]), "each value with its Chinese label"


def test_an_enum_error_in_a_body_lists_the_values_with_their_labels(world: World, api: ApiFactory) -> None:
    answer = api.as_(world.admin).post("/api/v1/organizations", {"name": "某某局", "kind": "ministry"})
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "kind"
    assert error["message"].startswith("'ministry' is not one of: ")
    assert "department (" in error["message"]


def test_repeated_filters_are_documented_as_arrays() -> None:
    document = current_document()
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path, item in document["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    for key in [
        ("/api/v1/tickets", "status"),
        ("/api/v1/tickets", "priority"),
        ("/api/v1/statements", "status"),
        ("/api/v1/purchase-requests", "status"),
        ("/api/v1/maintenance-windows", "status"),
        ("/api/v1/assets", "state"),
    ]:
        schema = parameters[key]
        variants = schema.get("oneOf", [schema])
        assert any(variant.get("type") == "array" for variant in variants), (key, schema)
    assert ("/api/v1/statements", "state") not in parameters, "the filter is named after the field: status"
