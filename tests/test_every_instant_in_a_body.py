"""Every instant a request body takes, found in the OpenAPI document the running app serves, refuses the instants
that cannot be one: without an offset, a bare date, and the two ends of Python's calendar in the offsets that push
them past it. Each answer is a 4xx problem naming that field (``items.0.starts_at`` for one in a list), never a
5xx; a new body with an instant is held to it without a line here."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from opscenter.app import create_app
from opscenter.identity.guards import admitted_roles
from opscenter.identity.models import Role
from opscenter.openapi import operations
from opscenter.settings import Settings
from tests import loopback
from tests.factories import World
from tests.support import RunningServer

NOT_INSTANTS = {
    "naive": "2027-01-10T01:00:00",
    "bare date": "2027-01-10",
    "end of the calendar, west": "9999-12-31T23:59:59-14:00",
    "start of the calendar, east": "0001-01-01T00:00:00+14:00",
}
# What the message says, so that a person knows what to add or change.
SAYS = {
    "naive": "offset is required",
    "bare date": "a time and an offset",
    "end of the calendar, west": "must be between",
    "start of the calendar, east": "must be between",
}


@dataclass(frozen=True)
class InstantField:
    method: str
    path: str
    field: str  # as the house names it in a problem: "starts_at", "items.0.starts_at"
    steps: tuple[str | int, ...]  # where it sits in the body: property names and list positions

    def body(self, value: str) -> Any:
        """The smallest body that holds ``value`` at this field; the rest is left out (and named as missing)."""
        built: Any = value
        for step in reversed(self.steps):
            built = [built] if isinstance(step, int) else {step: built}
        return built


def instant_fields(document: dict[str, Any]) -> list[InstantField]:
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for steps in _instants(content["application/json"]["schema"], schemas, (), frozenset()):
                    field = ".".join(str(step) for step in steps)
                    found.append(InstantField(method.upper(), path, field, steps))
    return found


def _instants(
    schema: dict[str, Any], schemas: dict[str, Any], steps: tuple[str | int, ...], seen: frozenset[str]
) -> Iterator[tuple[str | int, ...]]:
    """Where a ``date-time`` string sits in ``schema``: through references, unions, objects, arrays and maps."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:  # a recursive schema is walked once
            yield from _instants(schemas[name], schemas, steps, seen | {name})
        return
    if schema.get("format") == "date-time":
        yield steps
    for union in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(union, []):
            yield from _instants(option, schemas, steps, seen)
    for name, property_schema in schema.get("properties", {}).items():
        yield from _instants(property_schema, schemas, (*steps, name), seen)
    if isinstance(schema.get("items"), dict):
        yield from _instants(schema["items"], schemas, (*steps, 0), seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _instants(schema["additionalProperties"], schemas, (*steps, "key"), seen)


@pytest.fixture(scope="module")
def admitted(settings: Settings) -> dict[tuple[str, str], frozenset[Role] | None]:
    """Each documented operation → the roles it admits (None: public)."""
    return {(method, path): admitted_roles(handler) for method, path, handler, _ in operations(create_app(settings))}


def test_every_instant_in_a_request_body_refuses_what_is_not_an_instant_by_name(
    server: RunningServer, world: World, admitted: dict[tuple[str, str], frozenset[Role] | None]
) -> None:
    document = loopback.get(f"{server.base_url}/schema/openapi.json", timeout=30).json()
    fields = instant_fields(document)
    assert {("POST", "/api/v1/maintenance-windows", "starts_at"), ("POST", "/api/v1/api-keys", "expires_at")} <= {
        (field.method, field.path, field.field) for field in fields
    }, "the walk finds the instants the API is known to take"

    wrong = []
    with loopback.client(base_url=server.base_url, timeout=30) as http:
        for field in fields:
            roles = admitted[(field.method, field.path)]
            who = world.by_role(next(role for role in Role if roles is None or role in roles))
            # Any id in the path, and the headers a workflow action or an idempotent POST asks for: the body is
            # read, and refused, before any of them is looked at.
            url = re.sub(r"\{\w+\}", str(uuid.uuid4()), field.path)
            headers = {
                "Authorization": f"Bearer {who.key}",
                "If-Match": '"1"',
                "Idempotency-Key": str(uuid.uuid4()),
            }
            for case, value in NOT_INSTANTS.items():
                response = http.request(field.method, url, json=field.body(value), headers=headers)
                named = _messages(response).get(field.field, "")
                if not (
                    400 <= response.status_code < 500
                    and response.headers.get("content-type") == "application/problem+json"
                    and SAYS[case] in named
                ):
                    where = f"{field.method} {field.path} {field.field} ({case}: {value})"
                    wrong.append(f"{where}: {response.status_code} {response.text[:300]}")
    assert wrong == [], "\n".join(wrong)


def _messages(response: httpx.Response) -> dict[str, str]:
    try:
        errors = response.json().get("errors", [])
    except ValueError:
        return {}
    return {error["field"]: error["message"] for error in errors}


def test_the_walk_finds_instants_nested_in_lists_and_unions() -> None:
    schemas = {
        "Window": {"type": "object", "properties": {"starts_at": {"type": "string", "format": "date-time"}}},
        "Batch": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Window"}},
                "due": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                "next": {"$ref": "#/components/schemas/Batch"},
            },
        },
    }
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}}
    document = {"components": {"schemas": schemas}, "paths": {"/x": {"post": {"requestBody": body}}}}
    found = instant_fields(document)
    assert [field.field for field in found] == ["items.0.starts_at", "due"]
    assert found[0].body("x") == {"items": [{"starts_at": "x"}]}
