"""Permission rows: handover batches and the asset register."""

from dataclasses import replace

from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import item
from tests.permissions.table import BUREAU, DEPARTMENT, OPERATOR, READERS, Prepared, Row, only


def _draft(world: World, api: ApiFactory) -> Prepared:
    batch = steps.batch(api, world.department, item("PERM-1"))
    return Prepared(params={"batch_id": batch["id"]}, etag_of=steps.path(batch))


def _submitted(world: World, api: ApiFactory) -> Prepared:
    prepared = _draft(world, api)
    steps.act(api, world.department, {"id": prepared.params["batch_id"]}, "submit")
    return prepared


def _inspected(world: World, api: ApiFactory) -> Prepared:
    prepared = _submitted(world, api)
    steps.inspect(api, world, {"id": prepared.params["batch_id"]})
    return prepared


def _registered(world: World, api: ApiFactory) -> Prepared:
    """An asset of department A, in handover."""
    _submitted(world, api)
    (asset,) = steps.assets(api, world.bureau)
    return Prepared(params={"asset_id": asset["id"]}, etag_of=f"{steps.ASSETS}/{asset['id']}")


def _operated(world: World, api: ApiFactory) -> Prepared:
    steps.handed_over(api, world, item("PERM-2"))
    (asset,) = steps.assets(api, world.bureau)
    return Prepared(params={"asset_id": asset["id"]}, etag_of=f"{steps.ASSETS}/{asset['id']}")


ROWS: list[Row] = [
    # handover batches: a department lists and signs its own; the operations center inspects submitted ones
    Row(
        "POST",
        "/api/v1/handovers",
        only(201, DEPARTMENT),
        lambda w, a: Prepared(body={"title": "移交", "planned_date": "2027-01-15", "items": [item("PERM-0")]}),
    ),
    Row("GET", "/api/v1/handovers", only(200, *READERS)),
    Row("GET", "/api/v1/handovers/{batch_id}", only(200, *READERS), _submitted),
    Row("GET", "/api/v1/handovers/{batch_id}/items", only(200, *READERS), _submitted),
    Row(
        "POST",
        "/api/v1/handovers/{batch_id}/items",
        only(200, DEPARTMENT),
        lambda w, a: replace(_draft(w, a), body={"items": [item("PERM-3")]}),
    ),
    # The table sends JSON, not a file: the department gets as far as reading it (422), the others are refused.
    Row("POST", "/api/v1/handovers/{batch_id}/items/import", only(422, DEPARTMENT), _draft),
    Row("POST", "/api/v1/handovers/{batch_id}/submit", only(200, DEPARTMENT), _draft),
    Row("POST", "/api/v1/handovers/{batch_id}/cancel", only(200, DEPARTMENT), _draft),
    Row(
        "POST",
        "/api/v1/handovers/{batch_id}/inspect",
        only(200, OPERATOR),
        lambda w, a: replace(_submitted(w, a), body={"accept_remaining": True}),
    ),
    Row("GET", "/api/v1/handovers/{batch_id}/inspection-report", only(200, *READERS), _submitted),
    Row("POST", "/api/v1/handovers/{batch_id}/sign", only(200, DEPARTMENT, OPERATOR, BUREAU), _inspected),
    Row("GET", "/api/v1/handovers/{batch_id}/inventory", only(200, *READERS), _submitted),
    # the register: a department reads its own assets; the operations center keeps operated ones current
    Row("GET", "/api/v1/assets", only(200, *READERS)),
    Row("GET", "/api/v1/assets/export", only(200, *READERS)),
    Row("GET", "/api/v1/assets/{asset_id}", only(200, *READERS), _registered),
    Row(
        "PATCH",
        "/api/v1/assets/{asset_id}",
        only(200, OPERATOR),
        lambda w, a: replace(_operated(w, a), body={"location": "市政务云机房C区"}),
    ),
    Row(
        "POST",
        "/api/v1/assets/{asset_id}/retire",
        only(200, OPERATOR),
        lambda w, a: replace(_operated(w, a), body={"reason": "设备老化"}),
    ),
]
