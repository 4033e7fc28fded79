"""What billing asks of ratings: an instance's score for a month, and closing the month when it approves."""

import uuid
from decimal import Decimal

from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.timekeeping import Period
from sla.ratings import periods, summary
from sla.ratings.models import RatingPeriodStatus
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.sla.ratings import steps

BILLING = Actor.system("job:billing", "test")


def test_an_instances_score_for_a_month_is_the_mean_of_its_ratings_or_none(
    world: World, api: ApiFactory, db: Database
) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department)
    first, second = instances
    first_id, second_id = uuid.UUID(first["id"]), uuid.UUID(second["id"])
    steps.rate(api, world.department, first, "2026-03", 85)
    steps.rate(api, world.department, second, "2026-03", 90)
    steps.rate(api, world.department, second, "2026-04", 70)
    with db.transaction(write=False) as session:
        march = summary.instance_scores(session, service_instance_ids=[first_id, second_id], period=Period(2026, 3))
        april = summary.instance_scores(session, service_instance_ids=[first_id], period=Period(2026, 4))
    assert march == {
        first_id: summary.InstanceScore(score=Decimal("85.00"), ratings=1),
        second_id: summary.InstanceScore(score=Decimal("90.00"), ratings=1),
    }
    assert april == {first_id: summary.InstanceScore(score=None, ratings=0)}


def test_means_round_half_up_to_the_hundredth() -> None:
    assert summary.mean(265, 3) == Decimal("88.33")
    assert summary.mean(17, 8) == Decimal("2.13")  # 2.125
    assert summary.mean(None, 0) is None


def test_billing_closes_a_month_once_even_when_nobody_rated_it(world: World, api: ApiFactory, db: Database) -> None:
    contract, instance = contracts.provisioned_instance(api, world)
    for _ in range(2):
        with db.transaction(write=True) as session:
            closed = periods.close_period(
                session, contract_id=uuid.UUID(contract["id"]), period=Period(2026, 5), actor=BILLING
            )
            assert closed.status == RatingPeriodStatus.CLOSED
    assert steps.period_of(api, world.bureau, contract, "2026-05")["version"] == 2
    refused = steps.post_rating(api, world.department, steps.rating_body(instance, "2026-05"))
    assert refused.status_code == 409
    events = api.as_(world.auditor).get("/api/v1/audit-events", params={"action": "rating_period.close"}).json()
    assert len(events["items"]) == 1
