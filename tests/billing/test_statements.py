"""Monthly statements over HTTP: the worked example end to end through the API, proration, idempotent runs,
and who sees what."""

import uuid
from datetime import datetime
from functools import partial

from opscenter.timekeeping import Period, business_date, utcnow
from tests.billing import steps
from tests.billing.steps import ChosenInputs
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.exported import csv_records
from tests.factories import World
from tests.sla.ratings import steps as ratings
from tests.support import race


def test_the_worked_example_becomes_a_statement_line_to_the_fen(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world, start="2026-10-10", end="2026-12-31")
    chosen.set_sla(contract, 1, steps.measured("99.40"))
    chosen.add_breach(contract, 1, number="GD-2026-0042")
    ratings.rate(api, world.department, instance, "2026-10", 85)

    run = steps.run(api, world.operator, "2026-10")

    assert (run["contracts"], run["lines"], run["created"], run["refreshed"], run["kept"]) == (1, 1, 1, 0, 0)
    statement = steps.statement_of(api, world.bureau, contract, "2026-10")
    line = steps.line(statement, 1)
    assert {name: line[name] for name in ("active_days", "days_in_month", "base", "availability", "credit_pct")} == {
        "active_days": 22,
        "days_in_month": 31,
        "base": "21290.32",
        "availability": "99.40",
        "credit_pct": "10",
    }
    assert (line["sla_status"], line["credit_tier_below"], line["sla_credit"]) == ("breached", "99.50", "2129.03")
    assert (line["penalties"], [ticket["number"] for ticket in line["tickets"]]) == ("2000.00", ["GD-2026-0042"])
    assert (line["score"], line["ratings"], line["coefficient"], line["rating_ded"]) == ("85.00", 1, "0.97", "514.84")
    assert (line["cap"], line["deduction"], line["amount"], line["flags"]) == ("6387.10", "4643.87", "16646.45", [])
    assert line["evidence"]["promql"] == ["probe_success"]
    assert (statement["status"], statement["base"], statement["amount"]) == ("draft", "21290.32", "16646.45")

    exported = api.as_(world.bureau).get(f"/api/v1/statements/{statement['id']}/export", params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.content.startswith(b"\xef\xbb\xbf")
    total = csv_records(exported.content)[-1]
    assert (total["行号"], total["基数"], total["结算金额"]) == ("合计", "21290.32", statement["amount"])
    xlsx = api.as_(world.bureau).get(f"/api/v1/statements/{statement['id']}/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")


def test_lines_starting_and_ending_mid_month_are_prorated_by_their_days_in_each_month(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world, start="2026-06-16", end="2026-07-10")
    for period in ("2026-06", "2026-07", "2026-08"):
        steps.run(api, world.operator, period)
    june = steps.line(steps.statement_of(api, world.bureau, contract, "2026-06"), 1)
    july = steps.line(steps.statement_of(api, world.bureau, contract, "2026-07"), 1)
    assert (june["first_day"], june["last_day"], june["active_days"], june["base"]) == (
        "2026-06-16",
        "2026-06-30",
        15,
        "15000.00",  # 20 × 1500.00 × 15 / 30
    )
    assert (july["first_day"], july["last_day"], july["active_days"], july["base"]) == (
        "2026-07-01",
        "2026-07-10",
        10,
        "9677.42",  # 20 × 1500.00 × 10 / 31 = 9677.419…
    )
    assert steps.statements(api, world.bureau, period="2026-08") == [], "no statement for a month with no day in force"
    assert june["flags"] == ["unrated"]
    assert june["coefficient"] == "1"


def test_the_months_of_instants_are_asia_shanghai_months() -> None:
    last_second = datetime.fromisoformat("2026-06-30T23:59:59+08:00")
    first_instant = datetime.fromisoformat("2026-07-01T00:00:00+08:00")
    assert Period.of(business_date(last_second)) == Period(2026, 6)
    assert Period.of(business_date(first_instant)) == Period(2026, 7)
    assert Period(2026, 7).bounds()[0] == first_instant  # the month starts at Shanghai midnight, 16:00 UTC before


def test_a_month_is_billed_only_once_it_has_ended(world: World, api: ApiFactory, chosen: ChosenInputs) -> None:
    this_month = str(Period.of(business_date(utcnow())))
    refused = api.as_(world.bureau).post("/api/v1/billing/runs", {"period": this_month})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "period"


def test_a_second_run_refreshes_drafts_and_leaves_issued_statements_alone(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    first, _ = contracts.provisioned_contract(api, world, number="SZSJ-2026-001", code="ECS-A")
    second, _ = contracts.provisioned_contract(api, world, number="SZSJ-2026-002", code="ECS-B")
    steps.run(api, world.operator, "2026-03")
    issued = steps.act(api, world.operator, steps.statement_of(api, world.operator, first, "2026-03"), "issue")
    assert issued.status_code == 200, issued.text
    chosen.set_sla(first, 1, steps.measured("98.00"))
    chosen.set_sla(second, 1, steps.measured("98.00"))

    again = steps.run(api, world.bureau, "2026-03")

    assert (again["created"], again["refreshed"], again["kept"]) == (0, 1, 1)
    kept = steps.statement_of(api, world.bureau, first, "2026-03")
    refreshed = steps.statement_of(api, world.bureau, second, "2026-03")
    assert (kept["status"], steps.line(kept, 1)["availability"], kept["version"]) == ("issued", "100.00", 2)
    assert (refreshed["status"], steps.line(refreshed, 1)["availability"], refreshed["version"]) == (
        "draft",
        "98.00",
        2,
    )
    assert len(steps.statements(api, world.bureau, period="2026-03")) == 2


def test_two_concurrent_runs_make_one_statement_per_contract(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    clients = [api.as_(world.bureau), api.as_(world.operator)]
    for client in clients:
        client.get("/api/v1/me")

    answers = race(*(partial(client.post, "/api/v1/billing/runs", {"period": "2026-04"}) for client in clients))

    assert [answer.status_code for answer in answers] == [201, 201], [answer.text for answer in answers]
    assert sorted(answer.json()["created"] for answer in answers) == [0, 1]
    found = steps.statements(api, world.bureau, contract_id=contract["id"])
    assert len(found) == 1
    assert len(steps.read(api, world.bureau, found[0]["id"])["lines"]) == 1


def test_a_department_sees_issued_statements_of_its_contracts_with_only_its_own_lines(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world, world.department, world.department_b)
    steps.run(api, world.operator, "2026-05")
    draft = steps.statement_of(api, world.bureau, contract, "2026-05")
    assert steps.statements(api, world.department) == [], "a draft is the operations center's working copy"
    assert api.as_(world.department).get(f"/api/v1/statements/{draft['id']}").status_code == 404

    steps.act(api, world.operator, draft, "issue")

    for who, own in ((world.department, 1), (world.department_b, 2)):
        seen = steps.read(api, who, draft["id"])
        assert [line["line_no"] for line in seen["lines"]] == [own]
        assert seen["amount"] == seen["lines"][0]["amount"], "the sums cover the department's own lines"
        foreign = api.as_(who).post(
            f"/api/v1/statements/{draft['id']}/disputes", {"line_no": 3 - own, "reason": "不是我们的"}
        )
        assert foreign.status_code == 422
    whole = steps.read(api, world.bureau, draft["id"])
    assert len(whole["lines"]) == 2
    assert whole["amount"] == "60000.00"
    assert api.as_(world.department).get(f"/api/v1/statements/{uuid.uuid4()}").status_code == 404
