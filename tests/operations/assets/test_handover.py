from functools import partial

from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import ASSETS, item
from tests.support import race


def test_a_full_handover_hands_accepted_assets_to_the_operations_center(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-001"), item("SN-002", kind="storage"), item("SN-003"))
    assert (batch["status"], batch["status_label"], batch["item_count"]) == ("draft", "草稿", 3)
    assert steps.assets(api, world.department) == [], "a draft registers nothing"

    submitted = steps.act(api, world.department, batch, "submit")
    assert submitted["status"] == "submitted"
    registered = steps.assets(api, world.department)
    assert sorted(a["serial_number"] for a in registered) == ["SN-001", "SN-002", "SN-003"]
    assert {(a["state"], a["state_label"]) for a in registered} == {("in_handover", "移交中")}

    items = steps.items_of(api, world.operator, batch)
    inspected = steps.inspect(api, world, batch, steps.reject(items[2]))
    assert (inspected["status"], inspected["accepted_count"], inspected["rejected_count"]) == ("inspected", 2, 1)
    report = steps.ok(api.as_(world.department).get(f"{steps.path(batch)}/inspection-report"))
    assert (report["total"], report["accepted"], report["rejected"], report["pending"]) == (3, 2, 1, 0)
    assert report["complete"] is True
    assert [(d["serial_number"], d["defect_note"]) for d in report["defects"]] == [
        ("SN-003", "硬盘SMART告警，需更换后再移交")
    ]
    assert {(k["kind"], k["total"], k["accepted"]) for k in report["by_kind"]} == {("server", 2, 1), ("storage", 1, 1)}

    completed = steps.sign_all(api, world, batch)
    assert completed["status"] == "completed"
    assert completed["operator_organization_id"] == str(world.operator.organization_id)
    assert [s["party"] for s in completed["signatures"]] == ["department", "operator", "bureau"]
    by_serial = {a["serial_number"]: a for a in steps.assets(api, world.bureau)}
    for serial in ("SN-001", "SN-002"):
        assert by_serial[serial]["state"] == "operated"
        assert by_serial[serial]["owner_department_id"] == str(world.department.organization_id), "ownership stays"
        assert by_serial[serial]["operator_organization_id"] == str(world.operator.organization_id)
        assert by_serial[serial]["transferred_on"] == completed["transfer_date"]
    assert by_serial["SN-003"]["state"] == "in_department", "a rejected item goes back to the department"
    assert by_serial["SN-003"]["operator_organization_id"] is None


def test_every_change_of_an_asset_is_kept_as_history(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, item("SN-100"))
    (asset,) = steps.assets(api, world.department)
    detail = steps.ok(api.as_(world.department).get(f"{ASSETS}/{asset['id']}"))
    history = detail["history"]
    assert [h["action"] for h in history] == ["register", "take_over"]
    assert {h["handover_batch_id"] for h in history} == {asset["handover_batch_id"]}
    assert history[0]["actor_name"] == world.department.user_name
    assert history[0]["changes"]["state"] == [None, "in_handover"]
    assert history[1]["actor_name"] == world.bureau.user_name, "the third signature took it over"
    assert history[1]["changes"]["state"] == ["in_handover", "operated"]
    events = api.as_(world.auditor).get("/api/v1/audit-events", params={"object_id": asset["id"]}).json()
    assert sorted(e["action"] for e in events["items"]) == ["asset.register", "asset.take_over"]


def test_signing_before_inspection_is_complete_is_refused(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-201"), item("SN-202"))
    steps.act(api, world.department, batch, "sign", status=409)
    steps.act(api, world.department, batch, "submit")
    first = steps.items_of(api, world.operator, batch)[0]
    partly = steps.inspect(api, world, batch, {"item_id": first["id"], "result": "accepted"}, accept_remaining=False)
    assert (partly["status"], partly["pending_count"]) == ("submitted", 1)
    refused = api.as_(world.bureau).act(steps.path(batch), "sign")
    assert refused.status_code == 409
    assert "submitted" in refused.json()["detail"]


def test_a_party_signs_only_once(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-301"))
    steps.act(api, world.department, batch, "submit")
    steps.inspect(api, world, batch)
    steps.act(api, world.operator, batch, "sign")
    again = api.as_(world.operator).act(steps.path(batch), "sign")
    assert again.status_code == 409
    assert "already signed" in again.json()["detail"]


def test_parties_signing_at_the_same_moment_all_succeed_and_the_batch_completes_once(
    world: World, api: ApiFactory
) -> None:
    batch = steps.batch(api, world.department, item("SN-401"), item("SN-402"))
    steps.act(api, world.department, batch, "submit")
    steps.inspect(api, world, batch)
    etag = steps.etag(api, world.auditor, batch)  # every signer read the same version
    signers = [api.as_(who) for who in (world.department, world.operator, world.bureau)]
    for signer in signers:
        signer.get("/api/v1/me")
    answers = race(*(partial(s.post, f"{steps.path(batch)}/sign", headers={"If-Match": etag}) for s in signers))

    assert [answer.status_code for answer in answers] == [200, 200, 200], [a.text for a in answers]
    final = steps.ok(api.as_(world.bureau).get(steps.path(batch)))
    assert (final["status"], len(final["signatures"])) == ("completed", 3)
    events = api.as_(world.auditor).get(
        "/api/v1/audit-events", params={"object_id": batch["id"], "action": "handover_batch.complete"}
    )
    assert len(events.json()["items"]) == 1, "completed exactly once"
    assert {a["state"] for a in steps.assets(api, world.bureau)} == {"operated"}
    for asset in steps.assets(api, world.bureau):
        history = steps.ok(api.as_(world.bureau).get(f"{ASSETS}/{asset['id']}"))["history"]
        assert [h["action"] for h in history] == ["register", "take_over"]


def test_a_signature_with_a_version_from_before_inspection_completed_is_stale(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-451"))
    steps.act(api, world.department, batch, "submit")
    before_inspection = steps.etag(api, world.bureau, batch)
    steps.inspect(api, world, batch)
    stale = api.as_(world.bureau).post(f"{steps.path(batch)}/sign", headers={"If-Match": before_inspection})
    assert stale.status_code == 412


def test_assets_become_operated_only_with_the_third_signature_all_at_once(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, *(item(f"SN-5{n:02d}") for n in range(5)))
    steps.act(api, world.department, batch, "submit")
    steps.inspect(api, world, batch)
    for who in (world.bureau, world.department):
        signed = steps.act(api, who, batch, "sign")
        assert signed["status"] == "inspected"
        assert {a["state"] for a in steps.assets(api, world.bureau)} == {"in_handover"}
    completed = steps.act(api, world.operator, batch, "sign")
    assert completed["status"] == "completed"
    states = [a["state"] for a in steps.assets(api, world.bureau)]
    assert states == ["operated"] * 5


def test_department_b_can_neither_see_nor_sign_department_a_batch(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-601"))
    steps.act(api, world.department, batch, "submit")
    steps.inspect(api, world, batch)
    other = api.as_(world.department_b)
    assert other.get(steps.path(batch)).status_code == 404
    assert other.get(f"{steps.path(batch)}/items").status_code == 404
    assert other.get(f"{steps.path(batch)}/inspection-report").status_code == 404
    etag = steps.etag(api, world.department, batch)
    assert other.post(f"{steps.path(batch)}/sign", headers={"If-Match": etag}).status_code == 404
    assert other.get(steps.HANDOVERS).json()["items"] == []
    assert steps.assets(api, world.department_b) == []
    (asset,) = steps.assets(api, world.department)
    assert other.get(f"{ASSETS}/{asset['id']}").status_code == 404


def test_a_draft_may_be_cancelled_and_registers_nothing(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-701"))
    assert api.as_(world.operator).get(steps.path(batch)).status_code == 404, "drafts are the department's own"
    cancelled = steps.act(api, world.department, batch, "cancel")
    assert cancelled["status"] == "cancelled"
    steps.act(api, world.department, batch, "submit", status=409)
    assert steps.assets(api, world.department) == []
    again = steps.batch(api, world.department, item("SN-701"), title="重新移交")
    assert again["item_count"] == 1, "a cancelled batch's serial numbers are free again"


def test_a_submitted_batch_cannot_be_cancelled_or_changed(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-751"))
    steps.act(api, world.department, batch, "submit")
    steps.act(api, world.department, batch, "cancel", status=409)
    steps.act(api, world.department, batch, "items", {"items": [item("SN-752")]}, status=409)


def test_a_rejected_asset_is_handed_over_again_by_its_id(world: World, api: ApiFactory) -> None:
    first = steps.batch(api, world.department, item("SN-801"))
    steps.act(api, world.department, first, "submit")
    (only,) = steps.items_of(api, world.operator, first)
    steps.inspect(api, world, first, steps.reject(only), accept_remaining=False)
    steps.sign_all(api, world, first)
    (asset,) = steps.assets(api, world.department)
    assert asset["state"] == "in_department"

    by_serial = api.as_(world.department).post(
        steps.HANDOVERS, {"title": "再次移交", "planned_date": "2027-02-01", "items": [item("SN-801")]}
    )
    assert by_serial.status_code == 422
    assert "asset_ids" in by_serial.json()["errors"][0]["message"], "the refusal says how to list it instead"

    second = steps.batch(api, world.department, title="再次移交", asset_ids=[asset["id"]])
    listed_twice = steps.batch(api, world.department, title="又一批")
    again = api.as_(world.department).act(steps.path(listed_twice), "items", {"asset_ids": [asset["id"]]})
    assert again.status_code == 422, "an asset sits in one open batch at a time"
    steps.act(api, world.department, second, "submit")
    steps.inspect(api, world, second)
    steps.sign_all(api, world, second)
    detail = steps.ok(api.as_(world.department).get(f"{ASSETS}/{asset['id']}"))
    assert detail["state"] == "operated"
    assert [h["action"] for h in detail["history"]] == ["register", "reject", "hand_over", "take_over"]
    assert detail["history"][1]["note"] == "硬盘SMART告警，需更换后再移交"


def test_an_item_is_inspected_once_and_a_rejection_needs_a_defect_note(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-901"), item("SN-902"))
    steps.act(api, world.department, batch, "submit")
    first, _ = steps.items_of(api, world.operator, batch)
    no_note = api.as_(world.operator).act(
        steps.path(batch), "inspect", {"decisions": [{"item_id": first["id"], "result": "rejected"}]}
    )
    assert no_note.status_code == 422
    steps.inspect(api, world, batch, {"item_id": first["id"], "result": "accepted"}, accept_remaining=False)
    twice = api.as_(world.operator).act(steps.path(batch), "inspect", {"decisions": [steps.reject(first)]})
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "decisions.0.item_id"
