"""A department rates the instances it uses, once per month, for months that have begun, until closed."""

from opscenter.timekeeping import Period, today
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.sla.ratings import steps


def test_a_department_rates_its_instance_and_reads_it_back(world: World, api: ApiFactory) -> None:
    contract, instance = contracts.provisioned_instance(api, world)
    body = steps.rating_body(
        instance, "2026-03", 92, dimensions={"quality": 95, "timeliness": 88, "attitude": 93}, comment="运行稳定"
    )
    created = steps.post_rating(api, world.department, body)
    assert created.status_code == 201, created.text
    rating = created.json()
    assert created.headers["Location"] == f"/api/v1/ratings/{rating['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (rating["score"], rating["period"], rating["comment"]) == (92, "2026-03", "运行稳定")
    assert rating["dimensions"] == {"quality": 95, "timeliness": 88, "attitude": 93}
    assert rating["department_id"] == str(world.department.organization_id)
    assert rating["contract_id"] == contract["id"]
    assert rating["rated_by_id"] == str(world.department.user_id)
    for reader in (world.department, world.bureau, world.auditor):
        assert api.as_(reader).get(created.headers["Location"]).json() == rating


def test_department_and_rater_in_the_body_are_refused_and_the_caller_is_the_rater(
    world: World, api: ApiFactory
) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    for smuggled in (
        {"department_id": str(world.department_b.organization_id)},
        {"rated_by_id": str(world.bureau.user_id)},
    ):
        refused = steps.post_rating(api, world.department, {**steps.rating_body(instance), **smuggled})
        assert refused.status_code == 422, refused.text
        assert [error["field"] for error in refused.json()["errors"]] == list(smuggled)
    assert len(api.as_(world.bureau).get("/api/v1/ratings").json()["items"]) == 0
    rating = steps.rate(api, world.department, instance)
    assert (rating["department_id"], rating["rated_by_id"]) == (
        str(world.department.organization_id),
        str(world.department.user_id),
    )


def test_another_departments_instance_is_refused_as_if_absent_naming_the_field(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    theirs = steps.post_rating(api, world.department, steps.rating_body(instances[1]))
    missing = steps.post_rating(
        api, world.department, steps.rating_body({"id": "01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b"})
    )
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json() == missing.json()
    assert [error["field"] for error in theirs.json()["errors"]] == ["service_instance_id"]


def test_a_month_outside_the_line_and_a_month_not_begun_are_422(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world, start="2026-04-10", end="2026-12-31")
    before_the_line = steps.post_rating(api, world.department, steps.rating_body(instance, "2026-03"))
    assert before_the_line.status_code == 422
    assert before_the_line.json()["errors"][0]["field"] == "service_instance_id"
    assert steps.post_rating(api, world.department, steps.rating_body(instance, "2026-04")).status_code == 201
    next_month = str(Period.of(today()).next())
    not_begun = steps.post_rating(api, world.department, steps.rating_body(instance, next_month))
    assert not_begun.status_code == 422
    assert not_begun.json()["errors"][0]["field"] == "period"
    malformed = steps.post_rating(api, world.department, steps.rating_body(instance, "2026-13"))
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "period"


def test_one_rating_per_instance_and_month_the_second_is_409_naming_the_first(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    first = steps.rate(api, world.department, instance, "2026-03", 80)
    again = steps.post_rating(api, world.department, steps.rating_body(instance, "2026-03", 90))
    assert again.status_code == 409
    assert first["id"] in again.json()["detail"]
    assert steps.rate(api, world.department, instance, "2026-04", 90)["score"] == 90


def test_department_bs_rating_is_invisible_to_a(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    theirs = steps.rate(api, world.department_b, instances[1])
    mine = steps.rate(api, world.department, instances[0])
    health = api.as_(world.department)
    assert health.get(f"/api/v1/ratings/{theirs['id']}").status_code == 404
    assert steps.revise(api, world.department_b, theirs, score=10).status_code == 200
    assert health.put(f"/api/v1/ratings/{theirs['id']}", {"score": 1}, headers={"If-Match": '"2"'}).status_code == 404
    assert health.get(f"/api/v1/ratings/{theirs['id']}/history").status_code == 404
    assert [rating["id"] for rating in health.get("/api/v1/ratings").json()["items"]] == [mine["id"]]
    assert len(api.as_(world.bureau).get("/api/v1/ratings").json()["items"]) == 2


def test_the_operations_center_reads_aggregates_never_a_rating(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    rating = steps.rate(
        api,
        world.department,
        instances[0],
        "2026-03",
        91,
        dimensions={"quality": 90, "timeliness": 80, "attitude": 85},
        comment="值班人员态度很好",
    )
    steps.rate(api, world.department_b, instances[1], "2026-03", 76)
    steps.rate(api, world.department_b, instances[1], "2026-04", 58)
    operator = api.as_(world.operator)
    assert operator.get("/api/v1/ratings").status_code == 403
    assert operator.get(f"/api/v1/ratings/{rating['id']}").status_code == 403
    assert operator.get(f"/api/v1/ratings/{rating['id']}/history").status_code == 403

    summary = operator.get("/api/v1/ratings/summary", params={"period": "2026-03"})
    assert summary.status_code == 200, summary.text
    assert summary.json() == {
        "period": "2026-03",
        "service_instance_id": None,
        "instance_label": None,
        "count": 2,
        "mean_score": "83.50",
        "dimensions": {"rated": 1, "quality": "90.00", "timeliness": "80.00", "attitude": "85.00"},
        "distribution": [
            {"min_score": 90, "max_score": 100, "count": 1},
            {"min_score": 80, "max_score": 89, "count": 0},
            {"min_score": 70, "max_score": 79, "count": 1},
            {"min_score": 60, "max_score": 69, "count": 0},
            {"min_score": 0, "max_score": 59, "count": 0},
        ],
        "ticket_satisfaction": {"count": 0, "mean": None},
    }
    police = operator.get("/api/v1/ratings/summary", params={"service_instance_id": instances[1]["id"]}).json()
    assert (police["count"], police["mean_score"], police["dimensions"]["quality"]) == (2, "67.00", None)
    assert police["instance_label"] == instances[1]["name"]
    # a department's summary covers only its own ratings, and another's instance is absent
    health = api.as_(world.department)
    assert health.get("/api/v1/ratings/summary", params={"period": "2026-03"}).json()["mean_score"] == "91.00"
    hidden = health.get("/api/v1/ratings/summary", params={"service_instance_id": instances[1]["id"]})
    assert hidden.status_code == 404
    assert operator.get("/api/v1/ratings/summary", params={"period": "2026-3"}).status_code == 400


def test_a_revision_replaces_the_rating_and_its_history_keeps_every_version(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    rating = steps.rate(api, world.department, instance, "2026-03", 70, comment="响应慢")
    first = steps.revise(
        api, world.department, rating, score=85, dimensions={"quality": 90, "timeliness": 80, "attitude": 85}
    )
    assert first.status_code == 200, first.text
    assert (first.json()["score"], first.json()["comment"], first.headers["ETag"]) == (85, None, '"2"')
    assert first.json()["revised_by_id"] == str(world.department.user_id)
    assert steps.revise(api, world.department, rating, score=88, comment="复核后调整").json()["version"] == 3

    stale = api.as_(world.department).put(f"/api/v1/ratings/{rating['id']}", {"score": 1}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    history = api.as_(world.department).get(f"/api/v1/ratings/{rating['id']}/history").json()["items"]
    assert [event["action"] for event in history] == ["rating.create", "rating.revise", "rating.revise"]
    assert history[1]["changes"]["score"] == [70, 85]
    assert history[1]["changes"]["comment"] == ["响应慢", None]
    assert history[2]["changes"]["score"] == [85, 88]
    assert all(event["actor_name"] == world.department.user_name for event in history)


def test_after_its_month_is_closed_nothing_of_it_is_rated_or_revised(world: World, api: ApiFactory) -> None:
    contract, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    rating = steps.rate(api, world.department, instances[0], "2026-03", 80)
    period = steps.period_of(api, world.bureau, contract, "2026-03")
    assert (period["status"], period["status_label"]) == ("open", "可评价")
    assert api.as_(world.department).get(f"/api/v1/rating-periods/{period['id']}").status_code == 200

    closed = steps.close(api, world.bureau, contract, "2026-03")
    assert (closed["status"], closed["closed_by_id"], closed["version"]) == ("closed", str(world.bureau.user_id), 2)

    revised = steps.revise(api, world.department, rating, score=95)
    assert revised.status_code == 409
    late = steps.post_rating(api, world.department_b, steps.rating_body(instances[1], "2026-03"))
    assert late.status_code == 409
    assert late.json()["errors"][0]["field"] == "period"
    assert api.as_(world.bureau).act(f"/api/v1/rating-periods/{closed['id']}", "close").status_code == 409
    # other months of the same contract stay open
    assert steps.post_rating(api, world.department_b, steps.rating_body(instances[1], "2026-04")).status_code == 201
    assert api.as_(world.department).get(f"/api/v1/ratings/{rating['id']}").json()["score"] == 80
