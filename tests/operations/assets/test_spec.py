"""An asset's spec is free JSON under the house's one rule: numbers are kept as the department wrote them (1.5) and
audited so; NaN and Infinity, which JSON does not have, and nesting beyond 32 levels are a 422 naming the field
(``items.0.spec`` in a body, ``lines.N.spec`` with its column in a file), never a 500 and never a silent null."""

import json
from typing import Any

import pytest
from sqlmodel import col, select

from operations.assets.handover.models import HandoverItem
from operations.assets.register.models import Asset
from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import ASSETS, csv_file, csv_row, item
from tests.opscenter.test_strict_input import nothing_written, refused


def _nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1)


def _audited_specs(db: Database, asset_id: str) -> list[Any]:
    with db.transaction(write=False) as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.changes)
            .where(AuditEvent.object_id == asset_id)
            .order_by(col(AuditEvent.id))
        ).all()
    return [(action, changes["spec"]) for action, changes in events if "spec" in changes]


def test_an_asset_whose_spec_holds_a_fraction_is_operated_updated_audited_and_retired(
    world: World, api: ApiFactory, db: Database
) -> None:
    steps.handed_over(api, world, item("SN-F1", spec={"memory_tb": 1.5, "disks": [0.5, 2], "cpu": 32}))
    (asset,) = steps.assets(api, world.department)
    assert asset["spec"] == {"memory_tb": 1.5, "disks": [0.5, 2], "cpu": 32}
    path, operator = f"{ASSETS}/{asset['id']}", api.as_(world.operator)

    moved = operator.patch(path, {"location": "市政务云机房B区-01"}, headers={"If-Match": f'"{asset["version"]}"'})
    assert moved.status_code == 200, moved.text
    respecced = operator.patch(path, {"spec": {"memory_tb": 2.25}}, headers={"If-Match": moved.headers["ETag"]})
    assert respecced.status_code == 200, respecced.text
    assert respecced.json()["spec"] == {"memory_tb": 2.25}
    assert steps.ok(api.as_(world.department).get(path))["history"][-1]["changes"]["spec"] == [
        {"memory_tb": 1.5, "disks": [0.5, 2], "cpu": 32},
        {"memory_tb": 2.25},
    ]
    retired = operator.act(path, "retire", {"reason": "设备老化，已报废处置"})
    assert retired.status_code == 200, retired.text

    assert _audited_specs(db, asset["id"]) == [
        ("asset.register", [None, {"memory_tb": 1.5, "disks": [0.5, 2], "cpu": 32}]),
        ("asset.update", [{"memory_tb": 1.5, "disks": [0.5, 2], "cpu": 32}, {"memory_tb": 2.25}]),
    ]


def test_a_spec_cell_with_a_fraction_is_stored_as_written(world: World, api: ApiFactory, db: Database) -> None:
    batch = steps.batch(api, world.department)
    cells = csv_file([csv_row("SN-C1", spec='{"memory_tb": 1.5, "ratio": 0.125}')])
    assert steps.upload(api, world.department, batch, cells).status_code == 200
    assert steps.items_of(api, world.department, batch)[0]["spec"] == {"memory_tb": 1.5, "ratio": 0.125}
    steps.act(api, world.department, batch, "submit")  # now in the register, as written
    with db.transaction(write=False) as session:
        (spec,) = session.execute(select(Asset.spec).where(Asset.serial_number == "SN-C1")).one()
    assert spec == {"memory_tb": 1.5, "ratio": 0.125}


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ('{"x": NaN}', "NaN is not a JSON number"),
        ('{"x": Infinity}', "Infinity is not a JSON number"),
        ('{"x": [-Infinity]}', "-Infinity is not a JSON number"),
        ("[" * 1000 + "]" * 1000, "nested deeper than 32 levels"),
        (_nested(33), "nested deeper than 32 levels"),
        ('{"x": 1' + "0" * 4300 + "}", "longer than 4000 characters"),
    ],
    ids=["nan", "infinity", "minus-infinity", "1000-deep", "33-deep", "huge-number"],
)
def test_a_spec_cell_that_is_not_storable_json_is_refused_naming_its_line_and_column(
    world: World, api: ApiFactory, db: Database, cell: str, says: str
) -> None:
    batch = steps.batch(api, world.department)
    with nothing_written(db, HandoverItem):
        response = steps.upload(api, world.department, batch, csv_file([csv_row("SN-C2", spec=cell)]))
        (error,) = refused(response, 422, "lines.2.spec")
    assert (error.get("line"), error.get("column")) == (2, "规格参数")  # type: ignore[comparison-overlap]
    assert says in error["message"]


def test_a_spec_nested_as_deep_as_allowed_is_taken(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    response = steps.upload(api, world.department, batch, csv_file([csv_row("SN-C3", spec=_nested(32))]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("depth", [33, 900])
def test_a_spec_nested_too_deep_in_a_body_is_a_422_naming_it(
    world: World, api: ApiFactory, db: Database, depth: int
) -> None:
    body = json.dumps({"title": "移交", "planned_date": "2027-01-15", "items": [item("SN-J1", spec={"z": 0})]})
    body = body.replace('{"z": 0}', _nested(depth))
    with nothing_written(db, HandoverItem):
        response = api.as_(world.department).http.post(
            steps.HANDOVERS, content=body, headers={"content-type": "application/json"}
        )
        (error,) = refused(response, 422, "items.0.spec")
    assert "nested deeper than 32 levels" in error["message"]


def test_a_patched_spec_nested_too_deep_is_a_422_and_changes_nothing(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, item("SN-P1"))
    (asset,) = steps.assets(api, world.department)
    path, operator = f"{ASSETS}/{asset['id']}", api.as_(world.operator)
    content = '{"spec": ' + _nested(40) + "}"
    response = operator.http.patch(
        path, content=content, headers={"content-type": "application/json", "If-Match": f'"{asset["version"]}"'}
    )
    refused(response, 422, "spec")
    assert steps.ok(operator.get(path))["version"] == asset["version"]
