"""A month end to end with the real sources: probe_success in a real Prometheus pulled into daily measurements,
a P1 ticket whose resolution deadline passed, a department's rating, and the run over HTTP — the statement the
formula of DESIGN §5 predicts (its worked example), then issued, approved, paid."""

import uuid
from datetime import date
from pathlib import Path

import pytest

from opscenter.db import Database
from tests.billing import steps
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import ok
from tests.factories import World
from tests.operations.tickets import steps as tickets
from tests.operations.tickets.test_sweep import sweep
from tests.prometheus import minutes, running, write_series
from tests.sla.october import span
from tests.sla.ratings import steps as ratings
from tests.sla.steps import pull_october


def _october(path: Path, matchers: dict[str, str]) -> Path:
    """October at one sample a minute, down 190 minutes on the 12th: of the line's 22 days (31,680 minutes in
    force from the 10th) 31,490 are up, 99.40 %."""
    down = span("2026-10-12 10:00", "2026-10-12 13:10")
    with path.open("w") as out:
        out.write("# HELP probe_success Whether the probe succeeded\n# TYPE probe_success gauge\n")
        points = ((at, 0 if at in down else 1) for at in minutes(date(2026, 10, 1), date(2026, 10, 31)))
        write_series(out, "probe_success", matchers, points)
        out.write("# EOF\n")
    return path


def test_a_month_with_prometheus_tickets_and_ratings_bills_what_the_formula_predicts(
    world: World, api: ApiFactory, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world, start="2026-10-10", end="2026-12-31")
    with tickets.tickets_clock(monkeypatch, tickets.beijing(2026, 10, 15, 10)):
        ticket = tickets.open_ticket(api, world.department, instance, "P1")
    sweep(db, tickets.beijing(2026, 10, 15, 14, 30))  # 240 minutes on the 7×24 clock: due 14:00, unresolved
    ratings.rate(api, world.department, instance, "2026-10", 85)
    with running(tmp_path / "prometheus", _october(tmp_path / "october.om", instance["label_matchers"])) as server:
        pulled = pull_october(db, server)
    assert pulled.failure is None
    assert pulled.measured == 22

    run = steps.run(api, world.operator, "2026-10")

    assert (run["lines"], run["created"]) == (1, 1)
    statement = steps.statement_of(api, world.bureau, contract, "2026-10")
    line = steps.line(statement, 1)
    assert (line["sla_status"], line["availability"], line["credit_tier_below"], line["credit_pct"]) == (
        "breached",
        "99.40",
        "99.50",
        "10",
    )
    assert (line["evidence"]["up_samples"], line["evidence"]["samples"]) == (31490, 31680)
    assert line["evidence"]["promql"], "the PromQL that reproduces the figures"
    assert [(t["ticket_id"], t["number"], t["priority"]) for t in line["tickets"]] == [
        (ticket["id"], ticket["number"], "P1")
    ]
    assert (line["score"], line["coefficient"], line["flags"]) == ("85.00", "0.97", [])
    figures = ("base", "sla_credit", "penalties", "rating_ded", "cap", "deduction", "amount")
    assert [line[name] for name in figures] == [
        "21290.32",
        "2129.03",
        "2000.00",
        "514.84",
        "6387.10",
        "4643.87",
        "16646.45",
    ]
    assert statement["amount"] == "16646.45"

    ok(steps.act(api, world.operator, statement, "issue"))
    approved = ok(steps.act(api, world.bureau, steps.read(api, world.bureau, statement["id"]), "approve"))
    paid = ok(steps.act(api, world.bureau, approved, "pay", {"paid_on": "2026-11-25", "reference": "GK2026112500009"}))
    assert (paid["status"], paid["payable"]) == ("paid", "16646.45")
    assert uuid.UUID(paid["id"])
