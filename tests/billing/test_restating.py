"""A statement stays true: every change to its lines or to what is payable moves its version (ETag) on and is
audited; a rating written or revised while its month's statement is open (DESIGN §6: revisable until approved)
recomputes that line, and the department is told."""

from decimal import Decimal

from tests.billing import steps
from tests.billing.steps import ChosenInputs
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import JSON, ok
from tests.factories import Identity, World
from tests.sla.ratings import steps as ratings


def _issued(api: ApiFactory, world: World, contract: JSON, period: str) -> JSON:
    steps.run(api, world.operator, period)
    draft = steps.statement_of(api, world.operator, contract, period)
    return ok(steps.act(api, world.operator, draft, "issue"))


def _history(api: ApiFactory, world: World, statement: JSON) -> list[JSON]:
    found: list[JSON] = ok(api.as_(world.auditor).get(f"/api/v1/statements/{statement['id']}/history"))["items"]
    return found


def _etag(api: ApiFactory, who: Identity, statement: JSON) -> str:
    etag: str = api.as_(who).get(f"/api/v1/statements/{statement['id']}").headers["ETag"]
    return etag


def _resolve_by_hand(api: ApiFactory, world: World, dispute: JSON, score: int) -> None:
    body = {"resolution": "manual_score", "score": score, "reason": "复核"}
    ok(api.as_(world.bureau).act(f"/api/v1/disputes/{dispute['id']}", "resolve", body))


def test_a_dispute_that_moves_a_score_but_not_the_money_still_changes_the_etag(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world)
    ratings.rate(api, world.department, instance, "2026-09", 78)
    statement = _issued(api, world, contract, "2026-09")
    before = _etag(api, world.bureau, statement)
    dispute = ok(
        api.as_(world.department).post(
            f"/api/v1/statements/{statement['id']}/disputes", {"line_no": 1, "reason": "评分录入有误"}
        ),
        201,
    )

    # 78 and 70 share the 0.93 tier: the line's score changes, its money does not
    _resolve_by_hand(api, world, dispute, 70)

    after = steps.read(api, world.bureau, statement["id"])
    assert Decimal(steps.line(after, 1)["score"]) == 70
    assert after["amount"] == statement["amount"]
    assert after["version"] > statement["version"]
    assert _etag(api, world.bureau, statement) != before
    event = _history(api, world, statement)[-1]
    assert event["action"] == "statement.recompute"
    assert event["changes"]["lines.1.score"] == ["78.00", "70"]
    stale = api.as_(world.bureau).post(f"/api/v1/statements/{statement['id']}/approve", headers={"If-Match": before})
    assert stale.status_code == 412


def test_a_credit_note_changes_what_is_payable_and_so_the_etag(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    approved = ok(steps.act(api, world.bureau, _issued(api, world, contract, "2026-06"), "approve"))
    before = _etag(api, world.bureau, approved)

    ok(
        api.as_(world.bureau).post(
            f"/api/v1/statements/{approved['id']}/credit-notes",
            {"line_no": 1, "amount": "1200.00", "reason": "工单复核"},
            headers={"Idempotency-Key": ratings.new_key()},
        ),
        201,
    )

    after = steps.read(api, world.bureau, approved["id"])
    assert (after["credited"], after["payable"], after["amount"]) == ("1200.00", "28800.00", "30000.00")
    assert after["version"] == approved["version"] + 1
    assert _etag(api, world.bureau, approved) != before
    event = _history(api, world, approved)[-1]
    assert (event["action"], event["changes"]) == ("statement.credit", {"credited_fen": [0, 120000]})
    payment = {"paid_on": "2026-11-20", "reference": "GK-7"}
    stale = api.as_(world.bureau).post(
        f"/api/v1/statements/{approved['id']}/pay", payment, headers={"If-Match": before}
    )
    assert stale.status_code == 412, "a payment recorded against what was payable before the note is refused"
    assert ok(steps.act(api, world.bureau, after, "pay", payment))["status"] == "paid"


def test_a_rating_revised_while_the_statement_is_issued_recomputes_its_line_and_tells_the_department(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world)
    rating = ratings.rate(api, world.department, instance, "2026-09", 75)
    statement = _issued(api, world, contract, "2026-09")
    line = steps.line(statement, 1)
    assert (Decimal(line["score"]), line["coefficient"], line["amount"]) == (Decimal(75), "0.93", "27900.00")

    revised = ratings.revise(api, world.department, rating, score=95, comment="复核后上调")

    assert revised.status_code == 200, revised.text
    after = steps.read(api, world.department, statement["id"])
    line = steps.line(after, 1)
    # 95 → 1.00: no rating deduction, the whole base of 30000.00
    assert [Decimal(line["score"]), Decimal(line["measured_score"])] == [95, 95]
    assert line["coefficient"] == "1.00"
    assert (line["rating_ded"], line["amount"], after["amount"]) == ("0.00", "30000.00", "30000.00")
    assert after["version"] == statement["version"] + 1
    event = _history(api, world, statement)[-1]
    assert event["action"] == "statement.rerate"
    assert event["changes"]["amount_fen"] == [2_790_000, 3_000_000]
    told = ok(api.as_(world.department).get("/api/v1/notifications"))["items"]
    assert [(item["kind"], item["object_id"]) for item in told] == [("statement_restated", statement["id"])]
    assert "30000.00" in told[0]["body"]
    assert ok(steps.act(api, world.bureau, after, "approve"))["amount"] == "30000.00"
    assert ratings.revise(api, world.department, rating, score=60).status_code == 409, "closed once approved"


def test_a_rating_first_given_after_issue_rates_the_unrated_line_and_a_manual_score_still_wins(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world)
    statement = _issued(api, world, contract, "2026-08")
    assert steps.line(statement, 1)["flags"] == ["unrated"]

    rating = ratings.rate(api, world.department, instance, "2026-08", 85)

    line = steps.line(steps.read(api, world.bureau, statement["id"]), 1)
    assert (Decimal(line["score"]), line["coefficient"], line["flags"]) == (Decimal(85), "0.97", [])
    dispute = ok(
        api.as_(world.bureau).post(
            f"/api/v1/statements/{statement['id']}/disputes", {"line_no": 1, "reason": "评分复核"}
        ),
        201,
    )
    _resolve_by_hand(api, world, dispute, 92)
    ok(ratings.revise(api, world.department, rating, score=50))
    line = steps.line(steps.read(api, world.bureau, statement["id"]), 1)
    assert [Decimal(line["measured_score"]), Decimal(line["score"])] == [50, 92]
    assert line["coefficient"] == "1.00"
