"""Instants and periods in requests, each by its one house type (``Instant``, ``PeriodText``): an instant without an
offset, a bare date or one beyond the calendar is a 422 naming its field and saying what is missing, a month that is
not one is a 422 (body) or 400 (query) naming ``period``; nothing is written, nothing answers 500. A rule over the
whole body names that rule, never "no body"."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from billing.statements.models import BillingRun
from opscenter.auth.models import ApiKey
from opscenter.db import Database
from opscenter.timekeeping import utcnow
from sla.maintenance.models import MaintenanceWindow
from tests import loopback
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.opscenter.test_strict_input import nothing_written, refused
from tests.support import RunningServer

WINDOWS = "/api/v1/maintenance-windows"


def _window(instance: dict[str, Any], starts_at: str, ends_at: str) -> dict[str, Any]:
    return {"service_instance_ids": [instance["id"]], "starts_at": starts_at, "ends_at": ends_at, "reason": "内核升级"}


@pytest.mark.parametrize("period", ["2026-13", "0000000", "2026-00", "1969-12", "3000-01", "2026-1 "])
def test_a_billing_run_for_a_month_that_is_not_one_is_a_422_naming_period(
    world: World, api: ApiFactory, db: Database, period: str
) -> None:
    with nothing_written(db, BillingRun):
        errors = refused(api.as_(world.operator).post("/api/v1/billing/runs", {"period": period}), 422, "period")
    assert errors == [{"field": "period", "message": "must be a month written YYYY-MM, 1970-01 to 2999-12"}]


def test_every_period_in_a_query_is_a_month_or_a_400_naming_it(world: World, api: ApiFactory) -> None:
    document = api.as_(None).get("/schema/openapi.json").json()
    queries = [
        path
        for path, item in document["paths"].items()
        if any(p["name"] == "period" and p["in"] == "query" for p in item.get("get", {}).get("parameters", []))
    ]
    assert {"/api/v1/sla/reports", "/api/v1/statements", "/api/v1/ratings"} <= set(queries), queries
    for path in queries:
        for period in ("2026-13", "0000-00", "2026-1"):
            refused(api.as_(world.auditor).get(path, params={"period": period}), 400, "period")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field", "says"),
    [
        ("2027-01-10T01:00:00", "2027-01-10T03:00:00", "starts_at", "an offset is required"),
        ("2027-01-10T01:00:00", "2027-01-10T03:00:00Z", "starts_at", "an offset is required"),  # one of each
        ("2027-01-10T01:00:00+08:00", "2027-01-10T03:00", "ends_at", "an offset is required"),
        ("2027-01-10", "2027-01-11", "starts_at", "a time and an offset"),
        ("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00", "ends_at", "must be between 1970-01-01T00"),
        ("0001-01-01T00:00:00+14:00", "2027-01-10T03:00:00Z", "starts_at", "must be between 1970-01-01T00"),
        ("2999-12-31T20:00:00-08:00", "2999-12-31T23:00:00-08:00", "ends_at", "2999-12-31T23:59:59Z"),
        ("1700000000", "1700003600", "starts_at", "must be an RFC 3339 instant"),
        ("2027-02-30T01:00:00Z", "2027-03-01T01:00:00Z", "starts_at", "day is out of range for month"),
    ],
)
def test_a_window_of_instants_that_are_not_ones_is_a_422_naming_the_field(
    world: World, api: ApiFactory, db: Database, starts_at: str, ends_at: str, field: str, says: str
) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    with nothing_written(db, MaintenanceWindow):
        response = api.as_(world.operator).post(WINDOWS, _window(instance, starts_at, ends_at))
        errors = refused(response, 422, field)
    assert says in next(error["message"] for error in errors if error["field"] == field)
    assert all(error["field"] != "body" for error in errors), "a field's fault is the field's, not the body's"


def test_an_instant_is_read_in_its_offset_and_answered_in_utc(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    beijing = starts.astimezone(timezone(timedelta(hours=8)))
    body = _window(instance, beijing.isoformat(), (beijing + timedelta(hours=2)).isoformat().replace("T", " "))
    window = contracts.ok(api.as_(world.operator).post(WINDOWS, body), 201)
    assert window["starts_at"] == starts.isoformat().replace("+00:00", "Z")
    assert window["ends_at"] == (starts + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    read_back = contracts.ok(api.as_(world.operator).get(f"{WINDOWS}/{window['id']}"))
    assert (read_back["starts_at"], read_back["ends_at"]) == (window["starts_at"], window["ends_at"]), "GET as POST"
    expires = (starts + timedelta(days=30)).astimezone(timezone(timedelta(hours=8)))
    key = api.as_(world.admin).post(
        "/api/v1/api-keys", {"user_id": str(world.auditor.user_id), "name": "报表", "expires_at": expires.isoformat()}
    )
    assert contracts.ok(key, 201)["expires_at"] == expires.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_rule_over_the_whole_body_is_named_as_that_rule_never_as_a_missing_body(
    world: World, api: ApiFactory, db: Database
) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    with nothing_written(db, MaintenanceWindow):
        response = api.as_(world.operator).post(
            WINDOWS, _window(instance, "2027-01-10T05:00:00+08:00", "2027-01-10T03:00:00+08:00")
        )
        errors = refused(response, 422, "body")
    assert errors == [{"field": "body", "message": "ends_at must be after starts_at"}]
    assert "has none" not in response.text


@pytest.mark.parametrize(
    ("expires_at", "says"),
    [
        ("2027-01-01", "a time and an offset"),
        ("2027-01-01T00:00:00", "an offset is required"),
        ("9999-12-31T23:59:59-14:00", "must be between"),
        ("0001-01-01T00:00:00+14:00", "must be between"),
    ],
)
def test_an_api_key_expiring_at_an_instant_that_is_not_one_is_a_422_naming_expires_at(
    world: World, api: ApiFactory, db: Database, expires_at: str, says: str
) -> None:
    body = {"name": "ratings integration", "user_id": str(world.department.user_id), "expires_at": expires_at}
    with nothing_written(db, ApiKey):
        errors = refused(api.as_(world.admin).post("/api/v1/api-keys", body), 422, "expires_at")
    assert says in errors[0]["message"]


def test_an_api_key_may_still_expire_at_an_aware_instant_or_never(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    user = str(world.department.user_id)
    body = {"name": "a", "user_id": user, "expires_at": "2027-01-01T00:00:00+08:00"}
    dated = contracts.ok(admin.post("/api/v1/api-keys", body), 201)
    assert dated["expires_at"] == "2026-12-31T16:00:00Z"
    never = contracts.ok(admin.post("/api/v1/api-keys", {"name": "b", "user_id": user, "expires_at": None}), 201)
    assert never["expires_at"] is None


def test_a_body_model_cannot_declare_a_bare_datetime() -> None:
    from opscenter.schemas import Instant, StrictInput  # here, so the module's other tests run on any version

    with pytest.raises(TypeError, match=r"opscenter\.schemas\.Instant"):

        class Sloppy(StrictInput):
            due_at: datetime

    with pytest.raises(TypeError, match=r"opscenter\.schemas\.Instant"):

        class SloppyList(StrictInput):
            due: list[datetime | None]

    class Careful(StrictInput):
        due_at: Instant

    with pytest.raises(ValidationError, match="offset is required"):
        Careful.model_validate({"due_at": "2027-01-10T01:00:00"})
    assert Careful.model_validate({"due_at": "2027-01-10T01:00:00+08:00"}).due_at.isoformat() == (
        "2027-01-09T17:00:00+00:00"
    )


def test_the_document_states_each_instant_s_form_and_bounds(server: RunningServer) -> None:
    schemas = loopback.get(f"{server.base_url}/schema/openapi.json").json()["components"]["schemas"]
    for model, field in [("MaintenanceWindowCreate", "starts_at"), ("ApiKeyCreate", "expires_at")]:
        stated = schemas[model]["properties"][field]
        assert "[Zz]|[+-]" in stated["pattern"], (model, field)
        assert "from 1970-01-01T00:00:00Z to 2999-12-31T23:59:59Z" in stated["description"]
    assert schemas["BillingRunIn"]["properties"]["period"]["pattern"] == r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"
