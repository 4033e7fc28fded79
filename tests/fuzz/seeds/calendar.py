"""The business calendar: overrides of two days of 2027, so that the fuzzer's `day` hits real ones."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.fuzz.seeds.world import Known
from tests.opscenter.calendar import steps


def seed(api: ApiFactory, world: World) -> Known:
    steps.enter_2027_new_year(api, world)
    steps.enter(api, world, "2027-02-06", working=True, reason="2027年春节调休上班")
    return {"day": ["2027-01-01", "2027-02-06"]}
