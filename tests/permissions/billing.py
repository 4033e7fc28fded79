"""Permission rows: billing runs, statements and their lifecycle, disputes, credit notes, spend."""

from typing import Any

from tests.billing import steps
from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions.table import AUDITOR, BUREAU, DEPARTMENT, OPERATOR, READERS, Prepare, Prepared, Row, only
from tests.sla.ratings.steps import new_key

STATEMENTS = "/api/v1/statements"


def _statement(state: str, body: Any = None) -> Prepare:
    def prepare(world: World, api: ApiFactory) -> Prepared:
        statement = steps.statement_in(api, world, state)
        return Prepared(
            params={"statement_id": statement["id"]},
            body=body,
            etag_of=f"{STATEMENTS}/{statement['id']}",
        )

    return prepare


def _credit(world: World, api: ApiFactory) -> Prepared:
    prepared = _statement("approved", {"line_no": 1, "amount": "1.00", "reason": "复核"})(world, api)
    prepared.headers["Idempotency-Key"] = new_key()
    return prepared


def _run(world: World, api: ApiFactory) -> Prepared:
    run = steps.run(api, world.bureau, "2026-01")
    return Prepared(params={"run_id": run["id"]})


def _dispute(world: World, api: ApiFactory) -> Prepared:
    statement = steps.statement_in(api, world, "issued")
    created = api.as_(world.department).post(
        f"{STATEMENTS}/{statement['id']}/disputes", {"line_no": 1, "reason": "数据有误"}
    )
    assert created.status_code == 201, created.text
    dispute = created.json()
    return Prepared(
        params={"dispute_id": dispute["id"]},
        body={"resolution": "accepted", "reason": "数据无误"},
        etag_of=f"/api/v1/disputes/{dispute['id']}",
    )


ROWS: list[Row] = [
    # runs: the bureau or the operations center generates a month's statements
    Row("POST", "/api/v1/billing/runs", only(201, BUREAU, OPERATOR), lambda w, a: Prepared(body={"period": "2026-01"})),
    Row("GET", "/api/v1/billing/runs/{run_id}", only(200, BUREAU, OPERATOR, AUDITOR), _run),
    # a department's spend is its own, the bureau's and the auditors' to read
    Row("GET", "/api/v1/billing/spend", only(200, BUREAU, DEPARTMENT, AUDITOR)),
    # statements: every business role reads (a department its issued ones, its own lines)
    Row("GET", STATEMENTS, only(200, *READERS)),
    Row("GET", STATEMENTS + "/{statement_id}", only(200, *READERS), _statement("issued")),
    Row("GET", STATEMENTS + "/{statement_id}/export", only(200, *READERS), _statement("issued")),
    Row("GET", STATEMENTS + "/{statement_id}/history", only(200, *READERS), _statement("issued")),
    Row("POST", STATEMENTS + "/{statement_id}/issue", only(200, OPERATOR), _statement("draft")),
    Row("POST", STATEMENTS + "/{statement_id}/approve", only(200, BUREAU), _statement("issued")),
    Row(
        "POST",
        STATEMENTS + "/{statement_id}/pay",
        only(200, BUREAU),
        _statement("approved", {"paid_on": "2026-03-20", "reference": "GK-0002"}),
    ),
    Row(
        "POST",
        STATEMENTS + "/{statement_id}/disputes",
        only(201, BUREAU, DEPARTMENT),
        _statement("issued", {"line_no": 1, "reason": "可用率有误"}),
    ),
    Row("POST", STATEMENTS + "/{statement_id}/credit-notes", only(201, BUREAU, OPERATOR), _credit),
    # disputes: read by whoever sees the line; resolved by the bureau
    Row("GET", "/api/v1/disputes/{dispute_id}", only(200, *READERS), _dispute),
    Row("POST", "/api/v1/disputes/{dispute_id}/resolve", only(200, BUREAU), _dispute),
]
