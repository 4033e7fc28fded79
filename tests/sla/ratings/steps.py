"""Rating steps over HTTP: what a department's system sends."""

import uuid
from typing import Any

import httpx

from tests.conftest import ApiFactory
from tests.contracts.steps import JSON, ok


def new_key() -> str:
    return str(uuid.uuid4())


def rating_body(instance: JSON, period: str = "2026-03", score: int = 88, **extra: Any) -> JSON:
    return {"service_instance_id": instance["id"], "period": period, "score": score, **extra}


def post_rating(api: ApiFactory, who: Any, body: JSON, key: str | None = None) -> httpx.Response:
    return api.as_(who).post("/api/v1/ratings", body, headers={"Idempotency-Key": key or new_key()})


def rate(api: ApiFactory, who: Any, instance: JSON, period: str = "2026-03", score: int = 88, **extra: Any) -> JSON:
    return ok(post_rating(api, who, rating_body(instance, period, score, **extra)), 201)


def post_batch(api: ApiFactory, who: Any, items: list[JSON], key: str | None = None) -> httpx.Response:
    return api.as_(who).post("/api/v1/ratings/batch", {"items": items}, headers={"Idempotency-Key": key or new_key()})


def revise(api: ApiFactory, who: Any, rating: JSON, **body: Any) -> httpx.Response:
    client = api.as_(who)
    path = f"/api/v1/ratings/{rating['id']}"
    return client.put(path, body, headers={"If-Match": client.get(path).headers["ETag"]})


def period_of(api: ApiFactory, who: Any, contract: JSON, period: str) -> JSON:
    found = ok(api.as_(who).get("/api/v1/rating-periods", params={"contract_id": contract["id"], "period": period}))
    assert len(found["items"]) == 1, found
    row: JSON = found["items"][0]
    return row


def close(api: ApiFactory, bureau: Any, contract: JSON, period: str) -> JSON:
    row = period_of(api, bureau, contract, period)
    return ok(api.as_(bureau).act(f"/api/v1/rating-periods/{row['id']}", "close"))
