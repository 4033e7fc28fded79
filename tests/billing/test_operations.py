"""Billing as operations run it: the monthly job's month, the command line with progress, and /metrics."""

import pytest

from billing.statements.jobs import previous
from opscenter.clock import Period
from opscenter.settings import Settings
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
    assert "lines: 1/1 (100%)" in first.stderr
    assert "1 statements created" in first.stdout
    again = opscenter(settings, "billing", "run", "--period", "2026-03")
    assert again.returncode == 0, again.stderr
    assert "0 statements created, 1 drafts refreshed" in again.stdout
    assert len(steps.statements(api, world.bureau, contract_id=contract["id"])) == 1
    refused = opscenter(settings, "billing", "run", "--period", "2026-13")
    assert refused.returncode == 2
    assert "YYYY-MM" in refused.stderr


def test_metrics_count_statements_by_state_and_sum_amounts_by_period(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    steps.statement_in(api, world, "issued", period="2026-02")
    scraped = scrape(api.base_url)
    assert 'opscenter_statements{state="issued"} 1.0' in scraped
    assert 'opscenter_billing_amount_yuan{kind="amount",period="2026-02"} 30000.0' in scraped
