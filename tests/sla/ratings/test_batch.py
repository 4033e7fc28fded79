"""A batch of ratings is written whole or not at all, and every refused item is named by its index."""

import json

from opscenter.errors import json_tokens_beyond
from opscenter.timekeeping import Period, today
from sla.ratings.controller import BATCH_MAX_JSON_TOKENS
from sla.ratings.service import NOT_RATEABLE
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.sla.ratings import steps

MONTHS = [f"2026-{month:02d}" for month in range(1, 11)]


def test_a_year_of_ratings_in_one_batch(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department)
    items = [steps.rating_body(instance, month, 60 + n) for n, month in enumerate(MONTHS) for instance in instances]
    created = steps.post_batch(api, world.department, items)
    assert created.status_code == 201, created.text
    written = created.json()
    assert written["count"] == len(items) == 20
    assert [(r["service_instance_id"], r["period"], r["score"]) for r in written["items"]] == [
        (item["service_instance_id"], item["period"], item["score"]) for item in items
    ]
    assert len(api.as_(world.department).get("/api/v1/ratings", params={"period": "2026-05"}).json()["items"]) == 2


def test_a_batch_with_bad_items_writes_nothing_and_names_each_by_index(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    mine, theirs = instances
    rated = steps.rate(api, world.department, mine, "2026-01")
    items = [steps.rating_body(mine, month) for month in MONTHS[1:6]]
    items[1] = steps.rating_body(theirs, "2026-03")  # another department's instance
    items[3] = steps.rating_body(mine, str(Period.of(today()).next()))  # a month not begun
    items.append(steps.rating_body(mine, "2026-01"))  # rated already
    items.append(steps.rating_body(mine, "2026-02"))  # twice in this batch (items.0)
    refused = steps.post_batch(api, world.department, items)
    assert refused.status_code == 422, refused.text
    errors = {error["field"]: error["message"] for error in refused.json()["errors"]}
    assert list(errors) == [
        "items.1.service_instance_id",
        "items.3.period",
        "items.5.service_instance_id",
        "items.6.service_instance_id",
    ]
    assert errors["items.1.service_instance_id"] == NOT_RATEABLE
    assert rated["id"] in errors["items.5.service_instance_id"]
    assert "items.0" in errors["items.6.service_instance_id"]
    assert len(api.as_(world.department).get("/api/v1/ratings").json()["items"]) == 1


def test_a_batch_that_breaks_the_schema_names_the_items_too(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    items = [steps.rating_body(instance, month) for month in MONTHS[:3]]
    items[2]["score"] = 101
    items[0]["department_id"] = str(world.department_b.organization_id)
    refused = steps.post_batch(api, world.department, items)
    assert refused.status_code == 422
    assert sorted(error["field"] for error in refused.json()["errors"]) == ["items.0.department_id", "items.2.score"]
    too_many = steps.post_batch(api, world.department, [items[1]] * 501)
    assert too_many.status_code == 422
    assert len(api.as_(world.department).get("/api/v1/ratings").json()["items"]) == 0


def test_a_batch_names_format_and_rule_errors_together_in_item_order(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    mine, theirs = instances
    items = [steps.rating_body(mine, month) for month in MONTHS[:5]]
    items[1] = steps.rating_body(theirs, "2026-02")  # a rule: another department's instance
    items[3]["score"] = "70"  # a format: a string for a number
    items[4]["period"] = "2026-13"  # a format: no such month
    items[0]["service_instance_id"] = "not-an-id"  # a format, at the front

    refused = steps.post_batch(api, world.department, items)

    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == [
        "items.0.service_instance_id",
        "items.1.service_instance_id",
        "items.3.score",
        "items.4.period",
    ]
    # another department's instance reads as one that does not exist for this department
    assert refused.json()["errors"][1]["message"] == (
        "no service instance your department uses under a contract line in force that month"
    )
    assert "4 of the 5 ratings" in refused.json()["detail"]
    assert api.as_(world.department).get("/api/v1/ratings").json()["items"] == []


def test_a_batch_is_retried_safely_with_its_key(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    items = [steps.rating_body(instance, month) for month in MONTHS[:4]]
    key = steps.new_key()
    first = steps.post_batch(api, world.department, items, key)
    again = steps.post_batch(api, world.department, items, key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert steps.post_batch(api, world.department, items[:3], key).status_code == 422
    single = steps.post_rating(api, world.department, items[0], key)
    assert single.status_code == 422, "a key used for the batch is not reused for another route"
    assert len(api.as_(world.department).get("/api/v1/ratings").json()["items"]) == 4


def test_a_batch_holding_more_json_than_500_ratings_can_is_refused_unread(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    flooded = steps.rating_body(instance, "2026-01") | {f"unknown_{n}": n for n in range(20_000)}
    refused = steps.post_batch(api, world.department, [flooded])
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "body",
            "message": "holds more than 12000 JSON strings, commas and brackets, more than this operation reads",
        }
    ]
    dimensions = {"quality": 90, "timeliness": 80, "attitude": 70}
    largest = [
        steps.rating_body(instance, "2026-01", 80, dimensions=dimensions, comment='好,{"[' * 400) for _ in range(500)
    ]
    largest_body = json.dumps({"items": largest}).encode()
    assert not json_tokens_beyond(largest_body, BATCH_MAX_JSON_TOKENS), "commas and brackets in text do not count"
    assert json_tokens_beyond(largest_body, 10_000)
    answer = steps.post_batch(api, world.department, largest)  # refused, but for its items: the same one 500 times
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "items.1.service_instance_id"
    assert answer.json()["error_count"] == 499
