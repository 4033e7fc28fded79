"""A ratings batch cannot take the server down (issue 18): a 4 MiB body made to decode into as many objects, or
as many unknown fields, or as many refused fields as it can, sent to a real ``opscenter serve`` process, is
refused with a short 422 in a few seconds, in little memory, while other clients' reads and writes are answered."""

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from opscenter.settings import Settings
from sla.ratings.controller import BATCH_MAX_BODY_BYTES
from tests.factories import World
from tests.uploads import (
    ANSWER_BYTES,
    ANSWER_SECONDS,
    GROWTH,
    Server,
    assert_others_served,
    client,
    measure,
    others,
    record,
    serving,
)


def _filled(unit: Callable[[int], bytes], *, head: bytes = b'{"items":[', tail: bytes = b"]}") -> bytes:
    """``head``, then ``unit(0)``, ``unit(1)``… joined by commas up to 4 MiB, then ``tail``."""
    parts, size, n = [head], len(head) + len(tail), 0
    while size + len(unit(n)) + 1 <= BATCH_MAX_BODY_BYTES:
        parts.append(unit(n) + b",")
        size += len(unit(n)) + 1
        n += 1
    parts[-1] = parts[-1].rstrip(b",")
    return b"".join([*parts, tail])


def unknown_fields() -> bytes:
    """One item with 380,000 fields no rating has: each an "Extra inputs are not permitted" error."""
    return _filled(lambda n: b'"x%06d":0' % n, head=b'{"items":[{', tail=b"}]}")


def nested_objects() -> bytes:
    """470,000 items of two empty objects: 8 bytes on the wire, over 200 in memory, each."""
    return _filled(lambda _: b'{"a":{}}')


def every_field_wrong() -> bytes:
    """500 items (the most a batch has), every field of each refused: thousands of validation errors."""
    item = {
        "service_instance_id": "not-an-id",
        "period": "2026-13",
        "score": "ninety",
        "dimensions": {"quality": "good", "timeliness": -1, "attitude": 1000},
        "comment": 5,
    }
    return json.dumps({"items": [item] * 500}).encode()


HOSTILE: dict[str, Callable[[], bytes]] = {
    "unknown_fields": unknown_fields,
    "nested_objects": nested_objects,
    "every_field_wrong": every_field_wrong,
}


@pytest.fixture
def process(settings: Settings, world: World, tmp_path: Path) -> Iterator[Server]:
    with serving(settings, tmp_path / "serve.log") as server:
        yield server


def _post(department: httpx.Client, body: bytes) -> httpx.Response:
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
    return department.post("/api/v1/ratings/batch", content=body, headers=headers)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_batch_is_refused_at_once_in_little_memory_while_others_are_served(
    name: str, process: Server, world: World
) -> None:
    body = HOSTILE[name]()
    assert len(body) <= BATCH_MAX_BODY_BYTES
    department = client(process, world.department)
    assert _post(department, every_field_wrong()).status_code == 422  # warm: the route has answered before

    measured = measure(process, lambda: _post(department, body), others(process, world.department_b))
    record(f"ratings batch {name} ({len(body):,} bytes)", measured)

    assert not measured.killed, f"the server grew past 1 GiB: {measured.figures()}"
    assert measured.status == 422, measured.body[:2000]
    assert measured.seconds < ANSWER_SECONDS, measured.figures()
    assert measured.size < ANSWER_BYTES, measured.figures()
    assert measured.growth < GROWTH, measured.figures()
    assert_others_served(measured)
    assert department.get("/api/v1/ratings").json()["items"] == [], "nothing was written"
