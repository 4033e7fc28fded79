"""A JSON body is read strictly: a key written twice in one object is a 400 naming the key (no decoder's silent
choice of the last), and JSON sent as another media type is a 415; nothing is written either way."""

import pytest

from opscenter.errors import duplicate_key, is_json_media_type
from opscenter.openapi import DATE_PATTERN, STORABLE_TEXT_PATTERN
from tests.conftest import ApiFactory
from tests.factories import World
from tests.openapi_snapshot import current_document

ORGANIZATIONS = "/api/v1/organizations"


def test_a_key_written_twice_is_a_400_naming_it_and_nothing_is_written(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    body = '{"name": "某某局", "kind": "department", "kind": "bureau"}'.encode()
    answer = admin.post(ORGANIZATIONS, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"] == [
        {"field": "kind", "message": "is written twice in one JSON object; send each field once"}
    ]
    names = [organization["name"] for organization in admin.get(ORGANIZATIONS, params={"limit": 200}).json()["items"]]
    assert "某某局" not in names


def test_json_sent_as_text_plain_is_a_415(world: World, api: ApiFactory) -> None:
    body = '{"name": "某某局", "kind": "department"}'.encode()
    answer = api.as_(world.admin).post(ORGANIZATIONS, content=body, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "application/json" in answer.json()["detail"]
    charset = api.as_(world.admin).post(
        ORGANIZATIONS, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert charset.status_code == 201, charset.text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', "c"),
        (b'{"items": [{"x": 1}, {"x": 2, "x": 3}]}', "x"),
        (b'{"a": 1, "b": 2}', None),
        (b'[{"a": 1}, {"a": 1}]', None),
    ],
)
def test_duplicate_keys_are_found_at_any_depth_and_only_within_one_object(body: bytes, key: str | None) -> None:
    assert duplicate_key(body) == key


def test_json_media_types() -> None:
    assert is_json_media_type("application/json; charset=utf-8")
    assert is_json_media_type("application/merge-patch+json")
    assert not is_json_media_type("text/plain")
    assert not is_json_media_type("application/x-www-form-urlencoded")


def test_the_openapi_document_states_the_rules_bodies_are_held_to() -> None:
    schemas = current_document()["components"]["schemas"]
    assert schemas["TicketResolution"]["additionalProperties"] is False
    assert schemas["RejectBody"]["properties"]["reason"]["pattern"] == STORABLE_TEXT_PATTERN, "no NUL in text"
    payment_day = schemas["Payment"]["properties"]["paid_on"]
    assert payment_day["pattern"] == DATE_PATTERN, "a date inside 1970-01-01…2999-12-31"
    targets = schemas["ContractTerms"]["properties"]["ticket_targets"]
    assert targets["propertyNames"] == {"enum": ["P1", "P2", "P3", "P4"]}
    assert targets["required"] == ["P1", "P2", "P3", "P4"]
    matchers = schemas["ServiceInstanceCreate"]["properties"]["label_matchers"]
    assert matchers["propertyNames"]["pattern"] == r"^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$"
    assert matchers["minProperties"] == 1
