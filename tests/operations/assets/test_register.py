import uuid

import pytest
from sqlalchemy import text

from operations.assets.register import service as register
from opscenter.db import Database
from opscenter.errors import InvalidRows
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from tests.conftest import ApiFactory
from tests.contracts import steps as contract_steps
from tests.factories import Identity, World
from tests.operations.assets import steps
from tests.operations.assets.steps import ASSETS, item


def _serials(found: list[steps.JSON]) -> list[str]:
    return sorted(asset["serial_number"] for asset in found)


def test_the_register_filters_by_kind_state_location_owner_and_text(world: World, api: ApiFactory) -> None:
    steps.handed_over(
        api,
        world,
        item("AB-1", name="核心数据库服务器", location="机房A-01"),
        item("ab-2", kind="storage", name="备份存储", location="机房A-02"),
        item("AB-3", kind="network_device", name="核心交换机", location="机房B-01"),
    )
    pending = steps.batch(
        api, world.department, item("XY-1", name="边界防火墙", kind="security_device"), title="第二批"
    )
    steps.act(api, world.department, pending, "submit")
    bureau = world.bureau

    everything = steps.assets(api, bureau)
    assert everything[0]["serial_number"] == "XY-1", "newest first"
    assert [asset["id"] for asset in everything] == sorted((asset["id"] for asset in everything), reverse=True)
    assert _serials(steps.assets(api, bureau, kind="storage")) == ["ab-2"]
    assert _serials(steps.assets(api, bureau, state="in_handover")) == ["XY-1"]
    assert _serials(steps.assets(api, bureau, location="机房A")) == ["AB-1", "ab-2"]
    assert _serials(steps.assets(api, bureau, serial_prefix="AB")) == ["AB-1", "AB-3"], "a prefix, byte for byte"
    assert _serials(steps.assets(api, bureau, q="核心")) == ["AB-1", "AB-3"], "a part of the name"
    assert _serials(steps.assets(api, bureau, q="XY")) == ["XY-1"], "the start of the serial number"
    assert _serials(steps.assets(api, bureau, q="100%")) == [], "wildcards are text"
    owner = str(world.department.organization_id)
    assert len(steps.assets(api, bureau, owner_department_id=owner, kind="server")) == 1
    page = steps.ok(api.as_(world.auditor).get(ASSETS, params={"limit": 2, "state": "operated", "count": "true"}))
    assert (page["total"], len(page["items"])) == (3, 2)
    rest = steps.ok(
        api.as_(world.auditor).get(ASSETS, params={"limit": 2, "state": "operated", "cursor": page["next_cursor"]})
    )
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    assert api.as_(bureau).get(ASSETS, params={"state": "lost"}).status_code == 400
    for name in ("q", "location", "serial_prefix"):
        refused = api.as_(bureau).get(ASSETS, params={name: "F~5)\x00_"})
        assert refused.status_code == 400, f"a NUL in {name} is refused, never sent to the database"
        assert refused.json()["errors"][0]["field"] == name


def test_a_department_sees_only_its_own_assets(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, item("SN-O1"))
    (asset,) = steps.assets(api, world.department)
    for reader in (world.operator, world.bureau, world.auditor):
        assert api.as_(reader).get(f"{ASSETS}/{asset['id']}").status_code == 200
    other = api.as_(world.department_b)
    assert other.get(f"{ASSETS}/{asset['id']}").status_code == 404
    assert (
        other.get(ASSETS, params={"owner_department_id": str(world.department.organization_id)}).json()["items"] == []
    )


def _provisioned_instance(api: ApiFactory, world: World) -> steps.JSON:
    _, contract = contract_steps.standard_contract(api, world)
    body = {"contract_id": contract["id"], "line_no": 1, "name": "健康档案 生产", "label_matchers": {"instance": "a"}}
    return contract_steps.ok(api.as_(world.operator).post("/api/v1/service-instances", body), 201)


def test_the_operations_center_keeps_an_operated_asset_current(world: World, api: ApiFactory) -> None:
    instance = _provisioned_instance(api, world)
    steps.handed_over(api, world, item("SN-U1"))
    (asset,) = steps.assets(api, world.department)
    path = f"{ASSETS}/{asset['id']}"
    operator = api.as_(world.operator)
    change = {"location": "市政务云机房C区-07", "spec": {"cpu": 64}, "service_instance_ids": [instance["id"]]}
    updated = operator.patch(path, change, headers={"If-Match": operator.get(path).headers["ETag"]})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == f'"{updated.json()["version"]}"'
    seen = steps.ok(api.as_(world.department).get(path))
    assert (seen["location"], seen["spec"], seen["service_instance_ids"]) == (
        "市政务云机房C区-07",
        {"cpu": 64},
        [instance["id"]],
    )
    last = seen["history"][-1]
    assert (last["action"], last["actor_name"]) == ("update", world.operator.user_name)
    assert last["changes"]["location"] == ["市政务云机房A区-03", "市政务云机房C区-07"]
    assert last["changes"]["service_instance_ids"] == [[], [instance["id"]]]

    unknown = operator.patch(
        path, {"service_instance_ids": [str(uuid.uuid4())]}, headers={"If-Match": operator.get(path).headers["ETag"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "service_instance_ids.0"
    extra = operator.patch(
        path, {"owner_department_id": None}, headers={"If-Match": operator.get(path).headers["ETag"]}
    )
    assert extra.status_code in (400, 422), "ownership is never changed here"


def test_a_department_sees_only_links_to_instances_it_may_see(world: World, api: ApiFactory) -> None:
    instance = _provisioned_instance(api, world)  # a service of department A
    b_batch = steps.batch(api, world.department_b, item("SN-L1"), title="公安局移交")
    steps.act(api, world.department_b, b_batch, "submit")
    steps.inspect(api, world, b_batch)
    for who in (world.department_b, world.operator, world.bureau):
        steps.act(api, who, b_batch, "sign")
    (asset,) = steps.assets(api, world.department_b)
    path = f"{ASSETS}/{asset['id']}"
    operator = api.as_(world.operator)
    linked = operator.patch(
        path, {"service_instance_ids": [instance["id"]]}, headers={"If-Match": operator.get(path).headers["ETag"]}
    )
    assert linked.json()["service_instance_ids"] == [instance["id"]]
    assert steps.ok(api.as_(world.department_b).get(path))["service_instance_ids"] == []


def test_an_operated_asset_is_retired_with_a_reason(world: World, api: ApiFactory) -> None:
    pending = steps.batch(api, world.department, item("SN-T0"), title="未完成")
    steps.act(api, world.department, pending, "submit")
    steps.handed_over(api, world, item("SN-T1"))
    by_serial = {asset["serial_number"]: asset for asset in steps.assets(api, world.operator)}
    operator = api.as_(world.operator)
    in_handover = f"{ASSETS}/{by_serial['SN-T0']['id']}"
    assert operator.act(in_handover, "retire", {"reason": "报废"}).status_code == 409
    path = f"{ASSETS}/{by_serial['SN-T1']['id']}"
    assert operator.act(path, "retire", {"reason": ""}).status_code == 422
    retired = steps.ok(operator.act(path, "retire", {"reason": "设备老化，已报废处置"}))
    assert (retired["state"], retired["retirement_reason"]) == ("retired", "设备老化，已报废处置")
    assert retired["history"][-1]["note"] == "设备老化，已报废处置"
    assert operator.act(path, "retire", {"reason": "again"}).status_code == 409
    assert (
        operator.patch(path, {"location": "x"}, headers={"If-Match": operator.get(path).headers["ETag"]}).status_code
        == 409
    )


def _actor(who: Identity) -> Actor:
    return Actor(who.user_id, who.user_name, who.organization_id, OrgKind.DEPARTMENT, who.role, "test")


def test_other_domains_resolve_only_the_assets_the_actor_may_see(world: World, api: ApiFactory, db: Database) -> None:
    steps.handed_over(api, world, item("SN-K1"), item("SN-K2"))
    first, second = (uuid.UUID(asset["id"]) for asset in steps.assets(api, world.operator))
    with db.transaction(write=False) as session:
        found = register.assets_for_linking(session, [second, first], actor=_actor(world.department))
        assert [asset.id for asset in found] == [second, first]
        with pytest.raises(InvalidRows) as refused:
            register.assets_for_linking(session, [first, uuid.uuid4()], actor=_actor(world.department_b))
    assert [error.field for error in refused.value.errors] == ["asset_ids.0", "asset_ids.1"]
    assert world.department_b.role == Role.DEPARTMENT


@pytest.mark.postgresql_only
def test_serial_numbers_and_locations_compare_byte_for_byte_on_postgresql(db: Database) -> None:
    """Prefix search is an index range; under a database collation like en_US it would also match "ab-2" for "AB"."""
    with db.engine.connect() as connection:
        collations: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT column_name, collation_name FROM information_schema.columns "
                    "WHERE table_name = 'asset' AND column_name IN ('serial_number', 'location')"
                )
            ).all()
        )
    assert collations == {"serial_number": "C", "location": "C"}
