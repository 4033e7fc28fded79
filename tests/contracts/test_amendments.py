from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def _path(contract: steps.JSON) -> str:
    return f"/api/v1/contracts/{contract['id']}"


def test_an_amendment_is_a_new_version_approved_by_a_second_user_and_every_version_stays_readable(
    world: World, api: ApiFactory
) -> None:
    _, contract = steps.standard_contract(api, world)
    body = steps.amendment_body(contract, ceiling="1200000.00")
    new_line = {
        **{k: body["lines"][0][k] for k in ("service_id", "unit_price", "end_date")},
        "department_id": str(world.department_b.organization_id),
        "quantity": 5,
        "start_date": "2027-07-01",
    }
    body["lines"].append(new_line)
    drafted = api.as_(world.bureau).post(f"{_path(contract)}/amendments", body)
    assert drafted.status_code == 201, drafted.text
    amendment = drafted.json()
    assert (amendment["number"], amendment["status"], amendment["effective_date"]) == (2, "draft", "2027-07-01")
    assert [(line["line_no"], line["quantity"]) for line in amendment["lines"]] == [(1, 25), (2, 5)]

    bureau = api.as_(world.bureau)
    assert bureau.get(_path(contract)).json()["pending_amendment"] == 2
    assert api.as_(world.department).get(f"{_path(contract)}/versions/2").status_code == 404, "drafts stay inside"
    own = api.as_(world.bureau).act(f"{_path(contract)}/versions/2", "approve")
    assert own.status_code == 403, "whoever drafted the amendment cannot approve it"

    approved = steps.act(api, world.bureau2, f"{_path(contract)}/versions/2", "approve")
    assert (approved["status"], approved["approved_by_id"]) == ("approved", str(world.bureau2.user_id))
    now = bureau.get(_path(contract)).json()
    assert (now["current_version"], now["ceiling"], now["pending_amendment"]) == (2, "1200000.00", None)
    assert [line["quantity"] for line in now["lines"]] == [25, 5]

    versions = bureau.get(f"{_path(contract)}/versions").json()["items"]
    assert [(v["number"], v["status"]) for v in versions] == [(1, "approved"), (2, "approved")]
    assert versions[0]["lines"][0]["quantity"] == 20, "the contract as signed is kept as it was"
    # the new beneficiary now sees the contract, with only its own line
    police = api.as_(world.department_b).get(_path(contract)).json()
    assert [line["line_no"] for line in police["lines"]] == [2]


def test_lines_and_terms_are_frozen_once_approved_except_through_an_amendment(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    body = steps.amendment_body(contract)
    moved = dict(body["lines"][0], department_id=str(world.department_b.organization_id))
    refused = api.as_(world.bureau).post(f"{_path(contract)}/amendments", {**body, "lines": [moved]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.0.line_no"

    early = api.as_(world.bureau).post(f"{_path(contract)}/amendments", {**body, "effective_date": "2027-01-01"})
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "effective_date"

    steps.ok(api.as_(world.bureau).post(f"{_path(contract)}/amendments", body), 201)
    second = api.as_(world.bureau).post(f"{_path(contract)}/amendments", body)
    assert second.status_code == 409, "one amendment at a time"


def test_a_discarded_amendment_changes_nothing(world: World, api: ApiFactory) -> None:
    _, contract = steps.standard_contract(api, world)
    steps.ok(api.as_(world.bureau).post(f"{_path(contract)}/amendments", steps.amendment_body(contract)), 201)
    discarded = steps.act(api, world.bureau2, f"{_path(contract)}/versions/2", "discard")
    assert discarded["status"] == "discarded"
    after = api.as_(world.bureau).get(_path(contract)).json()
    assert (after["current_version"], after["lines"][0]["quantity"], after["pending_amendment"]) == (1, 20, None)
    assert api.as_(world.bureau).act(f"{_path(contract)}/versions/2", "approve").status_code == 409
