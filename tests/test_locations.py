"""Every creation answers 201 with ``Location``, the OpenAPI document says so, and the URL reads the object back.

The creations are taken from the two lists that already name every route: the OpenAPI document's 201 answers
and the permission table's rows (tests/permissions) that expect 201. Each row is sent for real, as the role the
table lets create, and its ``Location`` is followed with a GET as the same caller.
"""

from typing import Any

import pytest

from opscenter.idempotency.web import REPLAYED_HEADER
from tests.conftest import ApiFactory
from tests.factories import World
from tests.openapi_snapshot import current_document
from tests.permissions import ROWS
from tests.permissions.table import Row

CREATIONS = [row for row in ROWS if 201 in row.expect.values()]


def _documented_creations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation["responses"]["201"]
        for path, item in current_document()["paths"].items()
        for method, operation in item.items()
        if "201" in operation["responses"]
    }


def test_every_201_in_the_document_declares_location_and_is_a_row_that_creates() -> None:
    documented = _documented_creations()
    assert sorted(documented) == sorted(row.key for row in CREATIONS)
    for key, created in documented.items():
        location = created.get("headers", {}).get("Location")
        assert location is not None, f"{key} answers 201 without declaring Location"
        assert location["required"] is True, key
        assert location["schema"]["type"] == "string", key


def _holds(found: Any, created: dict[str, Any]) -> bool:
    """Whether the GET's answer is, or holds, the created object (by id; a batch: every item of it)."""
    if "items" in created and "id" not in created:
        return all(_holds(found, item) for item in created["items"])
    if "id" not in created:
        return bool(found == created)
    if isinstance(found, dict):
        if found.get("id") == created["id"]:
            return True
        return any(_holds(value, created) for value in found.values())
    if isinstance(found, list):
        return any(_holds(value, created) for value in found)
    return False


@pytest.mark.parametrize("row", CREATIONS, ids=lambda row: f"{row.method} {row.path}")
def test_a_creation_answers_location_that_reads_the_object_back(row: Row, world: World, api: ApiFactory) -> None:
    role = next(role for role, status in row.expect.items() if status == 201)
    client = api.as_(world.by_role(role))
    prepared = row.prepare(world, api)
    headers = dict(prepared.headers)
    if prepared.etag_of is not None:
        headers["If-Match"] = api.as_(world.auditor).get(prepared.etag_of).headers["ETag"]
    path = row.path.format(**prepared.params)
    created = client.http.request(row.method, path, json=prepared.body, headers=headers, params=prepared.query)
    assert created.status_code == 201, created.text
    location = created.headers.get("Location")
    assert location, f"{row.method} {row.path} answered 201 without Location"
    assert location.startswith("/api/v1/"), location

    read = client.get(location, params={"limit": 200})
    assert read.status_code == 200, (location, read.text)
    body, answer = read.json(), created.json()
    assert _holds(body, answer), f"GET {location} does not answer what {row.method} {path} created"
    itself = body == answer or ("id" in answer and body.get("id") == answer["id"])
    if itself and "ETag" in created.headers:
        assert read.headers["ETag"] == created.headers["ETag"], "the object as created, at the version created"

    if "Idempotency-Key" in headers:  # a retry is answered as the first time: Location included
        replay = client.http.request(row.method, path, json=prepared.body, headers=headers, params=prepared.query)
        assert replay.headers.get(REPLAYED_HEADER) == "true"
        assert (replay.status_code, replay.headers["Location"], replay.content) == (201, location, created.content)
