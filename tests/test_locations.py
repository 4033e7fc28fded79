"""Every creation answers 201 with ``Location``, the OpenAPI document says so, and the URL reads the object back.

The creations are taken from the two lists that already name every route: the OpenAPI document's 201 answers
and the permission table's rows (tests/permissions) that expect 201, which must be the same. The table's test
(tests/test_permissions.py) sends each row for real as every role it admits; where the answer is 201 it follows
``Location`` with ``assert_location_reads_back`` below, so no creation is built twice.
"""

from collections.abc import Callable
from typing import Any

import httpx

from opscenter.idempotency.web import REPLAYED_HEADER
from tests.openapi_snapshot import current_document
from tests.permissions import ROWS
from tests.support import Api

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


def assert_location_reads_back(
    client: Api, created: httpx.Response, *, replay: Callable[[], httpx.Response] | None = None
) -> None:
    """``created`` (a 201) names in ``Location`` a URL whose GET, by the same caller, answers the new object (or,
    where it has no URL of its own, what holds it); an idempotent creation's ``replay`` answers the same Location.

    tests/test_permissions.py runs it on every row of the table that creates, as every role that may."""
    location = created.headers.get("Location")
    assert location, f"{created.request.method} {created.request.url.path} answered 201 without Location"
    assert location.startswith("/api/v1/"), location
    read = client.get(location)
    assert read.status_code == 200, (location, read.text)
    if "next_cursor" in read.json():  # a list page (only lists take `limit`): the largest one
        read = client.get(location, params={"limit": 200})
        assert read.status_code == 200, (location, read.text)
    body, answer = read.json(), created.json()
    assert _holds(body, answer), f"GET {location} does not answer what {created.request.url.path} created"
    itself = body == answer or ("id" in answer and body.get("id") == answer["id"])
    if itself and "ETag" in created.headers:
        assert read.headers["ETag"] == created.headers["ETag"], "the object as created, at the version created"
    if replay is not None:  # a retry is answered as the first time: Location included
        again = replay()
        assert again.headers.get(REPLAYED_HEADER) == "true"
        assert (again.status_code, again.headers["Location"], again.content) == (201, location, created.content)
