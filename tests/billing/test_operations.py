"""Billing as operations run it: the monthly job's month, the command line with progress, and /metrics."""

import re
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from billing.statements import runs
from billing.statements.jobs import previous
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.settings import Settings
from opscenter.timekeeping import Period
from tests.billing import steps
from tests.billing.steps import ChosenInputs
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.opscenter.test_cli import opscenter
from tests.support import scrape


@pytest.mark.parametrize(
    ("run_in", "bills"), [(Period(2026, 11), Period(2026, 10)), (Period(2027, 1), Period(2026, 12))]
)
def test_the_monthly_job_bills_the_month_that_just_ended(run_in: Period, bills: Period) -> None:
    assert previous(run_in) == bills


def test_the_command_line_bills_a_month_with_progress_and_twice_makes_no_second_statement(
    world: World, api: ApiFactory, settings: Settings
) -> None:
    contract, _ = contracts.provisioned_contract(api, world)
    first = opscenter(settings, "billing", "run", "--period", "2026-03")
    assert first.returncode == 0, first.stderr
    # piped, the progress is whole lines (a terminal gets a bar redrawn in place)
    assert "\r" not in first.stderr
    assert "lines: 1/1 (100%)" in first.stderr.splitlines()
    assert "inputs: 1/1 (100%)" in first.stderr.splitlines()
    assert "1 statements created" in first.stdout
    # each phase named with its time, as the run reported it through its progress hook
    assert re.search(r"\(inputs [\d.]+ s, compute [\d.]+ s, lines [\d.]+ s, audit [\d.]+ s\)", first.stdout)
    again = opscenter(settings, "billing", "run", "--period", "2026-03")
    assert again.returncode == 0, again.stderr
    assert "0 statements created, 1 drafts refreshed" in again.stdout
    assert len(steps.statements(api, world.bureau, contract_id=contract["id"])) == 1
    refused = opscenter(settings, "billing", "run", "--period", "2026-13")
    assert refused.returncode == 2
    assert "YYYY-MM" in refused.stderr


def test_metrics_count_statements_by_state_sum_amounts_by_period_and_age_the_oldest_issued(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    scraped = scrape(api.base_url)
    assert "opscenter_statement_oldest_issued_age_seconds 0.0" in scraped, "none waits"
    steps.statement_in(api, world, "issued", period="2026-02")
    time.sleep(0.05)
    scraped = scrape(api.base_url)
    assert 'opscenter_statements{state="issued"} 1.0' in scraped
    assert 'opscenter_billing_amount_yuan{kind="amount",period="2026-02"} 30000.0' in scraped
    waited = _sample(scraped, "opscenter_statement_oldest_issued_age_seconds")
    assert 0 < waited < 60, "seconds since the issued statement was issued"


def _sample(scraped: str, name: str) -> float:
    return next(
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == name and not sample.labels
    )


def test_a_run_stopped_between_its_steps_leaves_whole_statements_and_the_next_run_writes_the_rest_once(
    world: World, api: ApiFactory, db: Database, chosen: ChosenInputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [
        contracts.provisioned_contract(api, world, number=f"SZSJ-2026-00{n}", code=f"ECS-{n}", start="2026-03-01",
                                       end="2026-03-31")[0]
        for n in (1, 2, 3)
    ]  # fmt: skip
    monkeypatch.setattr(runs, "STEP", 1)  # a write transaction per contract
    written, calls = runs._write, []

    def lost_on_the_second_step(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", None, Exception("the worker lost its database connection"))
        return written(*args)

    monkeypatch.setattr(runs, "_write", lost_on_the_second_step)
    actor = Actor.system("job:billing.monthly_run", "test")
    with pytest.raises(OperationalError):
        runs.run_period(db, period=Period(2026, 3), actor=actor)
    (first,) = steps.statements(api, world.bureau, period="2026-03")
    assert len(steps.read(api, world.bureau, first["id"])["lines"]) == 1, "the first step's statement is whole"

    monkeypatch.setattr(runs, "_write", written)
    again = runs.run_period(db, period=Period(2026, 3), actor=actor).run
    assert (again.created, again.refreshed, again.kept) == (2, 1, 0)
    by_contract = {found["contract_id"]: found for found in steps.statements(api, world.bureau, period="2026-03")}
    assert sorted(by_contract) == sorted(contract["id"] for contract in made)
    assert all(len(steps.read(api, world.bureau, found["id"])["lines"]) == 1 for found in by_contract.values())
    generated = api.as_(world.auditor).get(
        "/api/v1/audit-events", params={"action": "statement.generate", "count": "true"}
    )
    assert generated.json()["total"] == 3, "each statement generated once"
