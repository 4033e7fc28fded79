"""The world the fuzzer runs against: real objects, so that the ids it puts in paths hit something.

Each domain adds one seed function here (as each adds its rows to tests/permissions): it builds its objects
through the real API, with the domain's own test steps, and returns their ids by the path parameter that
names them, e.g. ``{"contract_id": [...]}`` (``{"day": ["2027-01-01"]}`` for a date). The fuzzer draws a path
parameter from these ids or, now and then, makes one up (which must answer 404).
"""

from tests.fuzz.seeds import assets, billing, calendar, contracts, core, ratings, sla, tickets
from tests.fuzz.seeds.world import Known, Seed

SEEDS: list[Seed] = [
    core.seed,
    contracts.seed,
    ratings.seed,
    assets.seed,
    calendar.seed,
    sla.seed,
    tickets.seed,
    billing.seed,
]

__all__ = ["SEEDS", "Known", "Seed"]
