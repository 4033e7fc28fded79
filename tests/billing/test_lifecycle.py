"""A statement from draft to paid: disputes that recompute a line, approval that freezes it (also against a direct
UPDATE on PostgreSQL) and closes the month's ratings, credit notes that never overdraw, the ceiling, the spend."""

import uuid
from functools import partial

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from contracts.agreements.models import ContractVersion
from opscenter.db import Database
from tests.billing import steps
from tests.billing.steps import ChosenInputs
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import JSON, ok
from tests.factories import Identity, World
from tests.sla.ratings import steps as ratings
from tests.support import race


def _issued(api: ApiFactory, world: World, contract: JSON, period: str) -> JSON:
    steps.run(api, world.operator, period)
    draft = steps.statement_of(api, world.operator, contract, period)
    return ok(steps.act(api, world.operator, draft, "issue"))


def _dispute(api: ApiFactory, who: Identity, statement: JSON, line_no: int = 1) -> JSON:
    created = api.as_(who).post(
        f"/api/v1/statements/{statement['id']}/disputes", {"line_no": line_no, "reason": "停电所致，已报备"}
    )
    return ok(created, 201)


def _resolve(api: ApiFactory, world: World, dispute: JSON, body: JSON) -> JSON:
    return ok(api.as_(world.bureau).act(f"/api/v1/disputes/{dispute['id']}", "resolve", body))


def test_a_resolved_dispute_recomputes_its_line_and_approval_freezes_the_statement(
    world: World, api: ApiFactory, chosen: ChosenInputs, db: Database
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world)
    chosen.set_sla(contract, 1, steps.LACKING)
    ratings.rate(api, world.department, instance, "2026-09", 75)
    statement = _issued(api, world, contract, "2026-09")
    line = steps.line(statement, 1)
    assert (line["flags"], line["sla_credit"], line["coefficient"]) == (["insufficient_data"], "0.00", "0.93")

    refused = steps.act(api, world.bureau, statement, "approve")
    assert refused.status_code == 409
    assert "line 1 has insufficient SLA data" in refused.json()["detail"]

    dispute = _dispute(api, world.department, statement)
    assert _dispute_again(api, world.bureau, statement).status_code == 409, "one open dispute per line"
    assert steps.read(api, world.bureau, statement["id"])["open_disputes"] == 1
    resolved = _resolve(
        api, world, dispute, {"resolution": "manual_availability", "availability": "99.40", "reason": "按维护窗口复核"}
    )
    assert (resolved["status"], resolved["resolution"], resolved["manual_value"]) == (
        "resolved",
        "manual_availability",
        "99.40",
    )
    recomputed = steps.read(api, world.bureau, statement["id"])
    line = steps.line(recomputed, 1)
    # base 30000.00; 10 % → 3000.00; rating (30000 − 3000) × 0.07 = 1890.00; cap 9000.00
    assert (line["availability"], line["measured_availability"], line["sla_status"]) == ("99.40", "99.99", "breached")
    assert (line["sla_credit"], line["rating_ded"], line["deduction"], line["amount"]) == (
        "3000.00",
        "1890.00",
        "4890.00",
        "25110.00",
    )
    assert line["flags"] == []
    assert recomputed["amount"] == "25110.00"
    assert line["manual_note"] == "按维护窗口复核"
    score = _dispute(api, world.bureau, recomputed)
    as_text = {"resolution": "manual_score", "score": "95", "reason": "评价系误操作"}
    refused = api.as_(world.bureau).act(f"/api/v1/disputes/{score['id']}", "resolve", as_text)
    assert refused.status_code == 422, "a score is an integer, as a rating's"
    assert refused.json()["errors"][0]["field"] == "score"
    settled = _resolve(api, world, score, {**as_text, "score": 95})
    assert settled["manual_value"] == "95.00", "as the line shows it"
    line = steps.line(steps.read(api, world.bureau, statement["id"]), 1)
    assert (line["score"], line["manual_score"], line["measured_score"]) == ("95.00", "95.00", "75.00")
    assert (line["coefficient"], line["rating_ded"], line["amount"]) == ("1.00", "0.00", "27000.00")

    approved = ok(steps.act(api, world.bureau, statement, "approve", {"note": "复核无误，同意结算"}))
    assert (approved["status"], approved["amount"]) == ("approved", "27000.00")
    assert steps.run(api, world.operator, "2026-09")["kept"] == 1
    assert _dispute_again(api, world.department, approved).status_code == 409
    assert ratings.period_of(api, world.bureau, contract, "2026-09")["status"] == "closed"
    late = ratings.post_rating(api, world.department, ratings.rating_body(instance, "2026-09"))
    assert late.status_code == 409, "approval closes the month's ratings"
    history = ok(api.as_(world.auditor).get(f"/api/v1/statements/{statement['id']}/history"))["items"]
    assert [event["action"] for event in history] == [
        "statement.generate",
        "statement.issue",
        "statement.recompute",
        "statement.recompute",
        "statement.approve",
    ]
    assert history[-1]["changes"]["note"] == [None, "复核无误，同意结算"], "the approval's note, in the history"

    paid = ok(steps.act(api, world.bureau, approved, "pay", {"paid_on": "2026-11-20", "reference": "GK2026112000017"}))
    assert (paid["status"], paid["paid_on"], paid["payment_reference"]) == ("paid", "2026-11-20", "GK2026112000017")
    assert steps.act(api, world.bureau, paid, "pay", {"paid_on": "2026-11-21", "reference": "X"}).status_code == 409


def _dispute_again(api: ApiFactory, who: Identity, statement: JSON) -> httpx.Response:
    return api.as_(who).post(f"/api/v1/statements/{statement['id']}/disputes", {"line_no": 1, "reason": "再次申诉"})


def test_an_accepted_dispute_leaves_the_line_as_billed(world: World, api: ApiFactory, chosen: ChosenInputs) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    statement = _issued(api, world, contract, "2026-08")
    dispute = _dispute(api, world.department, statement)
    assert steps.act(api, world.bureau, statement, "approve").status_code == 409, "disputed lines hold approval"
    bad = api.as_(world.bureau).act(
        f"/api/v1/disputes/{dispute['id']}", "resolve", {"resolution": "manual_score", "reason": "缺少评分"}
    )
    assert bad.status_code == 422, "a manual score needs the score"
    _resolve(api, world, dispute, {"resolution": "accepted", "reason": "监测数据无误"})
    after = steps.read(api, world.bureau, statement["id"])
    assert (after["amount"], after["version"], after["open_disputes"]) == (statement["amount"], statement["version"], 0)
    assert ok(steps.act(api, world.bureau, after, "approve"))["status"] == "approved"


@pytest.mark.postgresql_only
def test_postgresql_refuses_any_direct_change_to_an_approved_statement_or_its_lines(
    world: World, api: ApiFactory, chosen: ChosenInputs, db: Database
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    statement = ok(steps.act(api, world.bureau, _issued(api, world, contract, "2026-07"), "approve"))
    for sql in (
        "UPDATE statement SET amount_fen = 0 WHERE id = :id",
        "UPDATE statement SET status = 'draft' WHERE id = :id",
        "DELETE FROM statement WHERE id = :id",
        "UPDATE statement_line SET amount_fen = 0 WHERE statement_id = :id",
        "DELETE FROM statement_line WHERE statement_id = :id",
    ):
        with pytest.raises(DBAPIError, match="never change"), db.transaction(write=True) as session:
            session.execute(text(sql), {"id": statement["id"]})
    paid = steps.act(api, world.bureau, statement, "pay", {"paid_on": "2026-11-20", "reference": "GK-1"})
    assert paid.status_code == 200, "recording the payment is the one change still open to it"
    with pytest.raises(DBAPIError, match="never change"), db.transaction(write=True) as session:
        session.execute(
            text("UPDATE statement SET payment_reference = 'forged' WHERE id = :id"), {"id": statement["id"]}
        )


def test_credit_notes_never_exceed_the_statement_total_even_posted_at_once(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    statement = _issued(api, world, contract, "2026-06")
    path = f"/api/v1/statements/{statement['id']}/credit-notes"
    early = api.as_(world.bureau).post(
        path, {"line_no": 1, "amount": "1.00", "reason": "早"}, headers={"Idempotency-Key": ratings.new_key()}
    )
    assert early.status_code == 409, "only an approved statement is corrected by credit notes"
    ok(steps.act(api, world.bureau, statement, "approve"))
    clients = [api.as_(world.bureau), api.as_(world.operator)]
    for client in clients:
        client.get("/api/v1/me")

    # the total is 30000.00: each note alone fits, both together do not
    answers = race(
        *(
            partial(
                client.post,
                path,
                {"line_no": 1, "amount": "20000.00", "reason": "工单复核"},
                headers={"Idempotency-Key": ratings.new_key()},
            )
            for client in clients
        )
    )

    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
    after = steps.read(api, world.bureau, statement["id"])
    assert (after["credited"], after["payable"], len(after["credit_notes"])) == ("20000.00", "10000.00", 1)
    rest = api.as_(world.bureau).post(
        path, {"line_no": 1, "amount": "10000.00", "reason": "余额"}, headers={"Idempotency-Key": ratings.new_key()}
    )
    assert rest.status_code == 201, "up to the total exactly"
    spend = ok(api.as_(world.department).get("/api/v1/billing/spend", params={"fiscal_year": 2026}))["items"]
    assert [(item["budget"], item["spent"], item["remaining"]) for item in spend] == [
        ("1000000.00", "0.00", "1000000.00")
    ]


def test_a_statement_that_would_take_the_contract_over_its_ceiling_cannot_be_approved(
    world: World, api: ApiFactory, chosen: ChosenInputs, db: Database
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    # A contract's ceiling covers its lines when approved; lowered since (outside the API), it binds billing:
    # 20 × 1500.00 = 30000.00 a month, a ceiling of 45000.00 covers a month and a half.
    with db.transaction(write=True) as session:
        for version in session.exec(
            select(ContractVersion).where(ContractVersion.contract_id == uuid.UUID(contract["id"]))
        ):
            version.ceiling_fen = 4_500_000
    first = _issued(api, world, contract, "2026-01")
    assert not first["over_ceiling"]
    ok(steps.act(api, world.bureau, first, "approve"))
    second = _issued(api, world, contract, "2026-02")
    assert second["over_ceiling"]
    assert (second["billed_before"], second["ceiling"]) == ("30000.00", "45000.00")
    refused = steps.act(api, world.bureau, second, "approve")
    assert refused.status_code == 409
    assert "ceiling" in refused.json()["detail"]
    spend = ok(api.as_(world.bureau).get("/api/v1/billing/spend", params={"fiscal_year": 2026}))["items"]
    mine = [item for item in spend if item["department_id"] == str(world.department.organization_id)]
    assert [(item["budget"], item["spent"], item["remaining"]) for item in mine] == [
        ("1000000.00", "30000.00", "970000.00")
    ]


def test_a_refreshed_draft_keeps_what_a_resolved_dispute_set_and_a_stale_etag_is_refused(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    steps.run(api, world.operator, "2026-05")
    draft = steps.statement_of(api, world.bureau, contract, "2026-05")
    dispute = _dispute(api, world.bureau, draft)
    _resolve(api, world, dispute, {"resolution": "manual_score", "score": 60, "reason": "部门评价复核"})
    stale = api.as_(world.operator).get(f"/api/v1/statements/{draft['id']}").headers["ETag"]
    chosen.set_sla(contract, 1, steps.measured("99.60"))

    assert steps.run(api, world.operator, "2026-05")["refreshed"] == 1

    line = steps.line(steps.read(api, world.bureau, draft["id"]), 1)
    # base 30000.00; 99.60 → 5 % → 1500.00; score 60 → 0.85: (30000 − 1500) × 0.15 = 4275.00; total 5775.00
    assert (line["availability"], line["score"], line["manual_score"]) == ("99.60", "60.00", "60.00")
    assert (line["sla_credit"], line["rating_ded"], line["amount"]) == ("1500.00", "4275.00", "24225.00")
    issued = api.as_(world.operator).post(f"/api/v1/statements/{draft['id']}/issue", headers={"If-Match": stale})
    assert issued.status_code == 412


def test_the_statement_list_filters_on_status_which_may_repeat(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    issued = _issued(api, world, contract, "2026-09")
    steps.run(api, world.operator, "2026-10")
    draft = steps.statement_of(api, world.operator, contract, "2026-10")

    def listed(*states: str) -> set[str]:
        page = ok(api.as_(world.operator).get("/api/v1/statements", params=[("status", s) for s in states]))
        return {statement["id"] for statement in page["items"]}

    assert listed("draft") == {draft["id"]}
    assert listed("issued", "draft") == {issued["id"], draft["id"]}
    assert listed("approved", "paid") == set()
    renamed = api.as_(world.operator).get("/api/v1/statements", params={"state": "draft"})
    assert renamed.status_code == 400, "the filter is named after the field, status"
