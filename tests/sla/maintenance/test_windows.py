"""Maintenance windows: the operator proposes before the start, the bureau approves or rejects, the operator may
withdraw; departments read the windows that touch their instances."""

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World

PATH = "/api/v1/maintenance-windows"


def _body(*instances: dict[str, Any], starts_in_hours: float = 24, hours: float = 2) -> dict[str, Any]:
    starts = utcnow() + timedelta(hours=starts_in_hours)
    return {
        "service_instance_ids": [instance["id"] for instance in instances],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "reason": "数据库主备切换演练",
    }


def test_the_bureau_approves_a_proposal_made_before_it_starts_and_departments_touched_read_it(
    api: ApiFactory, world: World, db: Database
) -> None:
    _, mine = contracts.provisioned_instance(api, world)
    _, theirs = contracts.provisioned_instance(api, world, world.department_b, number="SZSJ-2026-002", code="DB-1")
    operator, bureau = api.as_(world.operator), api.as_(world.bureau)

    proposed = contracts.ok(operator.post(PATH, _body(mine)), 201)
    assert (proposed["status"], proposed["status_label"], proposed["version"]) == ("proposed", "待审批", 1)
    path = f"{PATH}/{proposed['id']}"
    assert bureau.post(f"{path}/approve", {}).status_code == 428
    assert bureau.post(f"{path}/approve", {}, headers={"If-Match": '"9"'}).status_code == 412
    approved = contracts.ok(bureau.post(f"{path}/approve", {"note": "同意"}, headers={"If-Match": '"1"'}))
    assert (approved["status"], approved["version"], approved["decision_note"]) == ("approved", 2, "同意")
    again = bureau.post(f"{path}/approve", {}, headers={"If-Match": '"2"'})
    assert again.status_code == 409
    assert "approved" in again.json()["detail"]
    assert operator.post(f"{path}/withdraw", headers={"If-Match": '"2"'}).status_code == 409

    as_a, as_b = api.as_(world.department), api.as_(world.department_b)
    assert contracts.ok(as_a.get(path))["service_instance_ids"] == [mine["id"]]
    assert as_b.get(path).status_code == 404
    assert [w["id"] for w in contracts.ok(as_a.get(PATH))["items"]] == [proposed["id"]]
    assert contracts.ok(as_b.get(PATH))["items"] == []
    both = contracts.ok(operator.post(PATH, _body(mine, theirs)), 201)
    assert [w["id"] for w in contracts.ok(as_b.get(PATH))["items"]] == [both["id"]]
    listed = contracts.ok(bureau.get(PATH, params={"service_instance_id": theirs["id"], "status": "proposed"}))
    assert [w["id"] for w in listed["items"]] == [both["id"]]

    with db.transaction(write=False) as session:
        actions = session.execute(
            select(AuditEvent.action).where(AuditEvent.object_id == proposed["id"]).order_by(col(AuditEvent.id))
        ).all()
    assert [action for (action,) in actions] == ["maintenance_window.propose", "maintenance_window.approve"]


def test_a_rejection_needs_a_reason_and_a_withdrawal_ends_a_proposal(api: ApiFactory, world: World) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    operator, bureau = api.as_(world.operator), api.as_(world.bureau)
    first = contracts.ok(operator.post(PATH, _body(instance)), 201)
    path = f"{PATH}/{first['id']}"
    missing = bureau.post(f"{path}/reject", {}, headers={"If-Match": '"1"'})
    assert missing.status_code == 422
    assert "reason" in missing.text
    rejected = contracts.ok(bureau.post(f"{path}/reject", {"reason": "与结算冲突"}, headers={"If-Match": '"1"'}))
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "与结算冲突")

    second = contracts.ok(operator.post(PATH, _body(instance)), 201)
    withdrawn = contracts.ok(operator.post(f"{PATH}/{second['id']}/withdraw", headers={"If-Match": '"1"'}))
    assert withdrawn["status"] == "withdrawn"
    late = bureau.post(f"{PATH}/{second['id']}/approve", {}, headers={"If-Match": '"2"'})
    assert late.status_code == 409


def test_a_window_is_proposed_before_it_starts_for_known_instances(api: ApiFactory, world: World) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    operator = api.as_(world.operator)
    started = operator.post(PATH, _body(instance, starts_in_hours=-1))
    assert started.status_code == 422
    assert "starts_at" in started.text
    backwards = operator.post(PATH, {**_body(instance), "ends_at": _body(instance, starts_in_hours=1)["starts_at"]})
    assert backwards.status_code == 422
    unknown = operator.post(
        PATH, {**_body(instance), "service_instance_ids": [instance["id"], instance["contract_id"]]}
    )
    assert unknown.status_code == 422
    assert "service_instance_ids.1" in unknown.text


def test_a_shared_window_shows_each_department_only_its_own_instances(api: ApiFactory, world: World) -> None:
    _, mine = contracts.provisioned_instance(api, world)
    _, theirs = contracts.provisioned_instance(api, world, world.department_b, number="SZSJ-2026-002", code="DB-1")
    operator, bureau = api.as_(world.operator), api.as_(world.bureau)
    shared = contracts.ok(operator.post(PATH, _body(mine, theirs)), 201)
    assert shared["service_instance_ids"] == [mine["id"], theirs["id"]]
    path = f"{PATH}/{shared['id']}"

    for who, own in ((world.department, mine), (world.department_b, theirs)):
        reader = api.as_(who)
        assert contracts.ok(reader.get(path))["service_instance_ids"] == [own["id"]]
        (listed,) = contracts.ok(reader.get(PATH))["items"]
        assert listed["service_instance_ids"] == [own["id"]]
    assert mine["id"] not in api.as_(world.department_b).get(path).text
    assert theirs["id"] not in api.as_(world.department).get(path).text
    assert mine["id"] not in api.as_(world.department_b).get(PATH).text

    # The bureau, the operations center and auditors see the whole window, and its decision answers in full.
    for reader in (operator, bureau, api.as_(world.auditor)):
        assert contracts.ok(reader.get(path))["service_instance_ids"] == [mine["id"], theirs["id"]]
    approved = contracts.ok(bureau.post(f"{path}/approve", {}, headers={"If-Match": '"1"'}))
    assert approved["service_instance_ids"] == [mine["id"], theirs["id"]]
    assert contracts.ok(api.as_(world.department).get(path))["service_instance_ids"] == [mine["id"]]


def test_a_repeated_status_filter_keeps_windows_in_any_of_the_states(api: ApiFactory, world: World) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    operator, bureau = api.as_(world.operator), api.as_(world.bureau)
    proposed, rejected, withdrawn = (contracts.ok(operator.post(PATH, _body(instance)), 201) for _ in range(3))
    contracts.ok(bureau.post(f"{PATH}/{rejected['id']}/reject", {"reason": "改期"}, headers={"If-Match": '"1"'}))
    contracts.ok(operator.post(f"{PATH}/{withdrawn['id']}/withdraw", headers={"If-Match": '"1"'}))

    def listed(*states: str) -> set[str]:
        return {w["id"] for w in contracts.ok(bureau.get(PATH, params=[("status", s) for s in states]))["items"]}

    assert listed("proposed", "rejected") == {proposed["id"], rejected["id"]}
    assert listed("withdrawn") == {withdrawn["id"]}
