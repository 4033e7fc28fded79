"""Strict input, never a 500: each class of hostile or sloppy input is a 4xx problem naming the field, and
nothing is written (no row, no audit event). The house mechanisms (StrictInput, the hardened parameters,
the guarded JSON decoder) give every domain these answers; these tests hold them to it on both databases."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import SQLModel

from contracts.budgets.models import Budget
from contracts.catalog.models import CatalogService
from contracts.purchasing.models import PurchaseRequest
from opscenter.app import create_app
from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from opscenter.schemas import StrictInput
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World

SERVICE = {"code": "ECS-4C8G", "name": "云服务器", "category": "compute", "unit": "台/月", "list_price": "1500.00"}


@contextmanager
def nothing_written(db: Database, table: type[SQLModel]) -> Iterator[None]:
    before = _counts(db, table)
    yield
    assert _counts(db, table) == before, "a refused request wrote something"


def _counts(db: Database, table: type[SQLModel]) -> tuple[int, int]:
    with db.transaction(write=False) as session:
        rows = session.execute(select(func.count()).select_from(table)).scalar_one()
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return rows, events


def refused(response: httpx.Response, status: int, *fields: str) -> list[dict[str, str]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: list[dict[str, str]] = response.json().get("errors", [])
    assert {error["field"] for error in errors} >= set(fields), errors
    return errors


def test_unknown_fields_are_named_and_server_owned_ones_are_not_writable(
    world: World, api: ApiFactory, db: Database
) -> None:
    body = {**SERVICE, "descripton": "misspelt", "id": "x", "status": "retired", "version": 9, "department_id": "x"}
    with nothing_written(db, CatalogService):
        errors = refused(api.as_(world.operator).post("/api/v1/services", body), 422, "descripton", "id")
    messages = {error["field"]: error["message"] for error in errors}
    assert messages["descripton"] == "is not a field of this request (misspelt?)"
    for owned in ("id", "status", "version", "department_id"):
        assert messages[owned] == "is set by the server and cannot be written"


@pytest.mark.parametrize(("value", "kind"), [(True, "a boolean"), ("7", "a string")])
def test_a_number_must_be_a_json_number(world: World, api: ApiFactory, db: Database, value: Any, kind: str) -> None:
    service = steps.catalog_service(api, world)
    body = {"title": "云资源", "items": [{**steps.item(service), "quantity": value}]}
    with nothing_written(db, PurchaseRequest):
        errors = refused(api.as_(world.department).post("/api/v1/purchase-requests", body), 422, "items.0.quantity")
    assert errors[0]["message"] == f"must be a JSON number, not {kind}"


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/v1/users", {"offset": str(2**63)}, "offset"),
        ("/api/v1/budgets", {"fiscal_year": str(10**30)}, "fiscal_year"),
        ("/api/v1/contracts/01a21ce5-662f-7bdf-87f6-32407b9e9fef/versions/99999999999999999999", {}, "number"),
    ],
)
def test_integers_beyond_a_column_are_a_400_naming_the_parameter(
    world: World, api: ApiFactory, path: str, params: dict[str, str], parameter: str
) -> None:
    who = world.admin if path.endswith("users") else world.bureau
    refused(api.as_(who).get(path, params=params), 400, parameter)


def test_integers_beyond_a_column_are_a_422_in_a_body(world: World, api: ApiFactory, db: Database) -> None:
    body = {
        "name": "x",
        "label_matchers": {"instance": "x"},
        "contract_id": str(world.bureau.user_id),
        "line_no": 2**40,
    }
    with nothing_written(db, CatalogService):
        errors = refused(api.as_(world.operator).post("/api/v1/service-instances", body), 422, "line_no")
    assert errors[0]["message"] == "must be between -2147483648 and 2147483647"


def test_an_if_match_beyond_any_version_is_a_400(world: World, api: ApiFactory, db: Database) -> None:
    service = steps.catalog_service(api, world)
    operator = api.as_(world.operator)
    with nothing_written(db, CatalogService):
        response = operator.post(f"/api/v1/services/{service['id']}/retire", headers={"If-Match": f'"{10**18}"'})
        refused(response, 400, "If-Match")


def test_an_amount_beyond_fifteen_digits_is_refused(world: World, api: ApiFactory, db: Database) -> None:
    with nothing_written(db, CatalogService):
        refused(
            api.as_(world.operator).post("/api/v1/services", {**SERVICE, "list_price": "9" * 16}), 422, "list_price"
        )


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01"])
def test_dates_at_the_calendars_edges_are_a_422(world: World, api: ApiFactory, db: Database, day: str) -> None:
    service = steps.catalog_service(api, world)
    body = {"title": "云资源", "items": [steps.item(service, start="2027-01-01", end=day)]}
    if day < "2027":
        body = {"title": "云资源", "items": [steps.item(service, start=day, end="2027-12-31")]}
    field = "items.0.end_date" if day >= "2027" else "items.0.start_date"
    with nothing_written(db, PurchaseRequest):
        errors = refused(api.as_(world.department).post("/api/v1/purchase-requests", body), 422, field)
    assert "between 1970-01-01 and 2999-12-31" in errors[0]["message"]


def test_the_longest_accepted_range_prices_without_overflow(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    body = {"title": "云资源", "items": [steps.item(service, start="1970-01-01", end="2999-12-31")]}
    response = api.as_(world.department).post("/api/v1/purchase-requests", body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_filter_at_the_calendars_edges_is_read_as_the_edge(
    world: World, api: ApiFactory, since: str
) -> None:
    response = api.as_(world.auditor).get("/api/v1/audit-events", params={"since": since})
    assert response.status_code == 200, response.text


def test_an_rfc_3339_instant_filters_in_its_own_offset(world: World, api: ApiFactory) -> None:
    auditor = api.as_(world.auditor)
    assert auditor.get("/api/v1/audit-events", params={"since": "2000-01-01T08:00:00+08:00"}).json()["items"]
    assert auditor.get("/api/v1/audit-events", params={"since": "2999-01-01T00:00:00.123456789z"}).json()["items"] == []


@pytest.mark.parametrize("since", ["1234", "1700000000.5", "2026-11-01", "2026-11-01T00:00:00"])
def test_an_instant_parameter_is_rfc_3339_only(world: World, api: ApiFactory, since: str) -> None:
    refused(api.as_(world.auditor).get("/api/v1/audit-events", params={"since": since}), 400, "since")


def test_text_a_database_cannot_store_is_a_422_in_a_body(world: World, api: ApiFactory, db: Database) -> None:
    with nothing_written(db, CatalogService):
        errors = refused(api.as_(world.operator).post("/api/v1/services", {**SERVICE, "name": "云\x00"}), 422, "name")
    assert "NUL" in errors[0]["message"]
    matchers = {"name": "x", "label_matchers": {"instance\x00": "x"}, "contract_id": str(world.bureau.user_id)}
    refused(
        api.as_(world.operator).post("/api/v1/service-instances", {**matchers, "line_no": 1}), 422, "label_matchers"
    )


def test_text_a_database_cannot_store_is_a_400_in_a_parameter(world: World, api: ApiFactory) -> None:
    response = api.as_(world.auditor).get("/api/v1/audit-events", params={"object_type": "contract\x00"})
    refused(response, 400, "object_type")


@pytest.mark.parametrize("price", ["1200.00\n", "１２００.００", " 1200.00", "1200.0o", "1e3", "1200.001"])
def test_money_is_ascii_digits_only(world: World, api: ApiFactory, db: Database, price: str) -> None:
    with nothing_written(db, CatalogService):
        refused(api.as_(world.operator).post("/api/v1/services", {**SERVICE, "list_price": price}), 422, "list_price")


@pytest.mark.parametrize("target", ["99.9\n", "９９.９", "101", 99.9])
def test_percentages_are_ascii_decimal_strings(world: World, api: ApiFactory, db: Database, target: Any) -> None:
    body = {**SERVICE, "default_terms": {"availability_target": target}}
    with nothing_written(db, CatalogService):
        refused(api.as_(world.operator).post("/api/v1/services", body), 422, "default_terms.availability_target")


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
def test_deeply_nested_json_is_a_400(world: World, api: ApiFactory, db: Database, body: bytes) -> None:
    with nothing_written(db, Budget):
        response = api.as_(world.bureau).http.post(
            "/api/v1/budgets", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "a JSON request body is required; this request has none"),
        (b"null", "must be a JSON object"),
        (b"[]", "must be a JSON object"),
    ],
)
def test_a_missing_body_is_named(world: World, api: ApiFactory, db: Database, content: bytes, message: str) -> None:
    with nothing_written(db, Budget):
        response = api.as_(world.bureau).http.post(
            "/api/v1/budgets", content=content, headers={"content-type": "application/json"}
        )
    errors = refused(response, 422, "body")
    assert errors == [{"field": "body", "message": message}]


def test_every_request_body_model_is_strict(settings: Settings) -> None:
    """The rule that makes the answers above hold for every domain: bodies are StrictInput, all the way down."""
    loose: list[str] = []
    for route in create_app(settings).routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            body = handler.parsed_fn_signature.parameters.get("data")
            if body is not None:
                loose += [f"{_name(handler)}: {model.__name__}" for model in _models(body.annotation) if _loose(model)]
    assert loose == [], "request body models that do not derive from opscenter.schemas.StrictInput"


def _name(handler: HTTPRouteHandler) -> str:
    return f"{sorted(handler.http_methods)} {handler.handler_name}"


def _loose(model: type[BaseModel]) -> bool:
    return not issubclass(model, StrictInput)


def _models(annotation: Any, seen: set[type] | None = None) -> Iterator[type[BaseModel]]:
    seen = set() if seen is None else seen
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation, seen)
        return
    for argument in getattr(annotation, "__args__", ()):
        yield from _models(argument, seen)
