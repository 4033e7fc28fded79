"""One vocabulary for every workflow: approve takes an optional note, reject a required reason, return a required
comment, whatever the domain; the words are kept in the audit event, so in the object's history."""

from typing import Any

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.openapi_snapshot import current_document

WORDS = {"approve": ("ApproveBody", False), "reject": ("RejectBody", True), "return": ("ReturnBody", True)}


def _body_schema(request_body: dict[str, Any]) -> str:
    schema = request_body["content"]["application/json"]["schema"]
    refs = [variant["$ref"] for variant in schema.get("oneOf", [schema]) if "$ref" in variant]
    assert len(refs) == 1, schema
    return str(refs[0]).rsplit("/", 1)[-1]


def test_every_approve_reject_and_return_takes_the_house_words() -> None:
    document = current_document()
    seen = set()
    for path, item in document["paths"].items():
        action = path.rsplit("/", 1)[-1]
        if action not in WORDS or "post" not in item:
            continue
        schema, required = WORDS[action]
        body = item["post"]["requestBody"]
        assert (_body_schema(body), body.get("required", False)) == (schema, required), path
        seen.add(action)
    assert seen == set(WORDS), "the walk found every action"
    components = document["components"]["schemas"]
    assert set(components["ApproveBody"]["properties"]) == {"note"}
    assert components["ApproveBody"].get("required", []) == []
    assert (components["RejectBody"]["required"], components["ReturnBody"]["required"]) == (["reason"], ["comment"])


def test_an_approval_needs_no_body_and_its_note_is_in_the_history(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "500000.00")
    requests = [steps.approved_request(api, world, world.department, steps.item(service))]
    contract = steps.draft_contract(api, world, requests)
    path = f"/api/v1/contracts/{contract['id']}"
    approved = steps.act(api, world.bureau2, path, "approve", {"note": "经局务会审议通过"})
    assert approved["status"] == "approved"
    history = steps.ok(api.as_(world.auditor).get(f"{path}/history"))["items"]
    [event] = [event for event in history if event["action"] == "contract.approve"]
    assert event["changes"]["note"] == [None, "经局务会审议通过"]

    amendment = steps.ok(
        api.as_(world.bureau).post(f"{path}/amendments", steps.amendment_body(approved)),
        201,
    )
    version_path = f"{path}/versions/{amendment['number']}"
    current = api.as_(world.bureau2).get(version_path)
    answered = api.as_(world.bureau2).post(f"{version_path}/approve", headers={"If-Match": current.headers["ETag"]})
    assert answered.status_code == 200, "no body: an approval without a note"


def test_reject_and_return_use_reason_and_comment_and_the_history_keeps_them(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    rejected, returned = (steps.draft_request(api, world.department, steps.item(service)) for _ in range(2))
    for request in (rejected, returned):
        steps.act(api, world.department, f"/api/v1/purchase-requests/{request['id']}", "submit")
    bureau = api.as_(world.bureau)
    reject_path, return_path = (f"/api/v1/purchase-requests/{r['id']}" for r in (rejected, returned))
    old_word = bureau.act(reject_path, "reject", {"note": "预算不足"})
    assert old_word.status_code == 422
    assert {error["field"] for error in old_word.json()["errors"]} == {"reason", "note"}
    steps.act(api, world.bureau, reject_path, "reject", {"reason": "预算不足"})
    steps.act(api, world.bureau, return_path, "return", {"comment": "请补充测算依据"})
    for path, word, text in ((reject_path, "reason", "预算不足"), (return_path, "comment", "请补充测算依据")):
        history = steps.ok(bureau.get(f"{path}/history"))["items"]
        assert history[-1]["changes"][word] == [None, text], path
