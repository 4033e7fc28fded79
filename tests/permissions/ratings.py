"""Permission rows: ratings (departments write, the operations center reads aggregates only) and rating periods."""

from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.permissions.table import AUDITOR, BUREAU, DEPARTMENT, READERS, Prepared, Row, only
from tests.sla.ratings import steps

RATING_READERS = (BUREAU, DEPARTMENT, AUDITOR)


def _new_rating(world: World, api: ApiFactory) -> Prepared:
    _, instance = contracts.provisioned_instance(api, world)
    return Prepared(body=steps.rating_body(instance), headers={"Idempotency-Key": steps.new_key()})


def _new_batch(world: World, api: ApiFactory) -> Prepared:
    _, instance = contracts.provisioned_instance(api, world)
    items = [steps.rating_body(instance, "2026-03"), steps.rating_body(instance, "2026-04")]
    return Prepared(body={"items": items}, headers={"Idempotency-Key": steps.new_key()})


def _rating(world: World, api: ApiFactory) -> Prepared:
    """A rating of world.department, the department of the table."""
    _, instance = contracts.provisioned_instance(api, world)
    rating = steps.rate(api, world.department, instance)
    return Prepared(params={"rating_id": rating["id"]}, body={"score": 75}, etag_of=f"/api/v1/ratings/{rating['id']}")


def _period(world: World, api: ApiFactory) -> Prepared:
    contract, instance = contracts.provisioned_instance(api, world)
    steps.rate(api, world.department, instance)
    period = steps.period_of(api, world.bureau, contract, "2026-03")
    return Prepared(params={"period_id": period["id"]}, etag_of=f"/api/v1/rating-periods/{period['id']}")


ROWS: list[Row] = [
    # ratings: only a department rates; individual ratings are never the operations center's to read
    Row("POST", "/api/v1/ratings", only(201, DEPARTMENT), _new_rating),
    Row("POST", "/api/v1/ratings/batch", only(201, DEPARTMENT), _new_batch),
    Row("GET", "/api/v1/ratings", only(200, *RATING_READERS)),
    Row("GET", "/api/v1/ratings/summary", only(200, *READERS)),
    Row("GET", "/api/v1/ratings/{rating_id}", only(200, *RATING_READERS), _rating),
    Row("PUT", "/api/v1/ratings/{rating_id}", only(200, DEPARTMENT), _rating),
    Row("GET", "/api/v1/ratings/{rating_id}/history", only(200, *RATING_READERS), _rating),
    # rating periods: everyone in the business reads them; the bureau closes them (billing too, on approval)
    Row("GET", "/api/v1/rating-periods", only(200, *READERS)),
    Row("GET", "/api/v1/rating-periods/{period_id}", only(200, *READERS), _period),
    Row("POST", "/api/v1/rating-periods/{period_id}/close", only(200, BUREAU), _period),
]
