"""Ratings: a contract in force this year with a provisioned instance, a rating of one of its months, and the
month's rating period."""

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.fuzz.seeds.world import Known
from tests.sla.ratings import steps as ratings


def seed(api: ApiFactory, world: World) -> Known:
    contract, instance = steps.provisioned_instance(api, world, number="SZSJ-2026-901", code="FUZZ-RATINGS")
    rating = ratings.rate(api, world.department, instance, period="2026-03")
    period = ratings.period_of(api, world.bureau, contract, "2026-03")
    return {"rating_id": [rating["id"]], "period_id": [period["id"]], "instance_id": [instance["id"]]}
