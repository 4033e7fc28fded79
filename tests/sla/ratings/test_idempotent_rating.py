"""POST /ratings is safe to retry: one Idempotency-Key, one rating, one answer, however often it is sent."""

import json
from datetime import timedelta
from functools import partial

import pytest
from sqlmodel import func, select

from opscenter.db import Database
from opscenter.idempotency import jobs as idempotency_jobs
from opscenter.idempotency.jobs import JOBS
from opscenter.idempotency.models import IdempotencyRecord
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.sla.ratings import steps
from tests.support import race


def _ratings(api: ApiFactory, world: World) -> int:
    total: int = len(api.as_(world.bureau).get("/api/v1/ratings").json()["items"])
    return total


def _events(api: ApiFactory, world: World) -> int:
    total: int = api.as_(world.auditor).get("/api/v1/audit-events", params={"count": "true"}).json()["total"]
    return total


def test_a_rating_without_an_idempotency_key_is_400_naming_the_header(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    department = api.as_(world.department)
    for headers in ({}, {"Idempotency-Key": "has spaces"}, {"Idempotency-Key": "k" * 256}):
        refused = department.post("/api/v1/ratings", steps.rating_body(instance), headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _ratings(api, world) == 0


def test_a_replay_gets_the_first_answer_and_writes_nothing(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    key = steps.new_key()
    body = steps.rating_body(instance, comment="稳定")
    first = steps.post_rating(api, world.department, body, key)
    assert first.status_code == 201
    events = _events(api, world)

    # the same request, its fields in another order and spaced differently, with an explicit default
    same = json.dumps({"comment": "稳定", "score": body["score"], "dimensions": None, **body}, indent=2)
    department = api.as_(world.department)
    replay = department.post(
        "/api/v1/ratings", content=same, headers={"Idempotency-Key": key, "Content-Type": "application/json"}
    )
    assert replay.status_code == 201
    assert replay.content == first.content
    assert (replay.headers["ETag"], replay.headers["Location"]) == (first.headers["ETag"], first.headers["Location"])
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (_ratings(api, world), _events(api, world)) == (1, events)


def test_the_same_key_with_another_body_is_422_and_writes_nothing(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    key = steps.new_key()
    steps.post_rating(api, world.department, steps.rating_body(instance, "2026-03", 80), key)
    other = steps.post_rating(api, world.department, steps.rating_body(instance, "2026-04", 80), key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _ratings(api, world) == 1


def test_keys_belong_to_an_organization(world: World, api: ApiFactory) -> None:
    _, instances = contracts.provisioned_contract(api, world, world.department, world.department_b)
    key = steps.new_key()
    mine = steps.post_rating(api, world.department, steps.rating_body(instances[0]), key)
    theirs = steps.post_rating(api, world.department_b, steps.rating_body(instances[1]), key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(world: World, api: ApiFactory) -> None:
    _, instance = contracts.provisioned_instance(api, world, start="2026-04-01")
    key = steps.new_key()
    assert steps.post_rating(api, world.department, steps.rating_body(instance, "2026-03"), key).status_code == 422
    assert steps.post_rating(api, world.department, steps.rating_body(instance, "2026-04"), key).status_code == 201


def test_twenty_concurrent_duplicates_make_one_rating_and_twenty_identical_answers(
    world: World, api: ApiFactory
) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    clients = [api.as_(world.department) for _ in range(20)]
    for client in clients:  # connected and authenticated, so that all twenty start together
        assert client.get("/api/v1/me").status_code == 200
    key, body = steps.new_key(), steps.rating_body(instance, score=77)

    answers = race(
        *(partial(client.post, "/api/v1/ratings", body, headers={"Idempotency-Key": key}) for client in clients)
    )

    assert [answer.status_code for answer in answers] == [201] * 20, [answer.text for answer in answers]
    assert len({answer.content for answer in answers}) == 1
    assert len({(answer.headers["ETag"], answer.headers["Location"]) for answer in answers}) == 1
    assert sum("Idempotent-Replayed" not in answer.headers for answer in answers) == 1
    assert _ratings(api, world) == 1
    created = api.as_(world.auditor).get("/api/v1/audit-events", params={"action": "rating.create"}).json()
    assert len(created["items"]) == 1


def _keys(db: Database) -> int:
    with db.transaction(write=False) as session:
        return session.exec(select(func.count()).select_from(IdempotencyRecord)).one()


def test_the_purge_forgets_a_few_keys_to_a_transaction_until_none_is_left(
    world: World, api: ApiFactory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    for period in ("2026-01", "2026-02", "2026-03"):
        assert steps.post_rating(api, world.department, steps.rating_body(instance, period)).status_code == 201
    monkeypatch.setattr(idempotency_jobs, "PURGE_STEP", 2)
    (purge,) = JOBS
    assert run_job(db, purge, system_actor=Actor.of_job, now=utcnow() + timedelta(hours=24, minutes=1)) == "ok"
    assert _keys(db) == 0


def test_keys_are_kept_a_day_then_purged_by_the_job(world: World, api: ApiFactory, db: Database) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    key, body = steps.new_key(), steps.rating_body(instance)
    assert steps.post_rating(api, world.department, body, key).status_code == 201
    (purge,) = JOBS

    assert run_job(db, purge, system_actor=Actor.of_job, now=utcnow() + timedelta(hours=23)) == "ok"
    assert _keys(db) == 1
    assert steps.post_rating(api, world.department, body, key).headers["Idempotent-Replayed"] == "true"

    assert run_job(db, purge, system_actor=Actor.of_job, now=utcnow() + timedelta(hours=24, minutes=1)) == "ok"
    assert run_job(db, purge, system_actor=Actor.of_job, now=utcnow() + timedelta(hours=24, minutes=1)) == "ok"
    assert _keys(db) == 0
    forgotten = steps.post_rating(api, world.department, body, key)
    assert forgotten.status_code == 409, "a forgotten key is a new request: this month is rated already"
