"""One rule for a reference that leads nowhere, in every domain: the operation's own object (in the path) is a 404;
an object a body field refers to is a 422 naming that field. Missing and invisible answer alike."""

import uuid
from typing import Any

import pytest

from tests.conftest import ApiFactory
from tests.factories import World

NOWHERE = str(uuid.UUID("01936f0e-6a4c-7d2e-9b1a-5c3d2e1f0a9b"))
MATCHERS = {"instance": "https://nowhere.example.gov.cn"}
WINDOW = {
    "starts_at": "2999-01-01T00:00:00Z",
    "ends_at": "2999-01-01T02:00:00Z",
    "reason": "演练",
    "service_instance_ids": [NOWHERE],
}
ITEM = {"quantity": 1, "start_date": "2027-01-01", "end_date": "2027-12-31", "justification": "上云"}

RATING = {"service_instance_id": NOWHERE, "period": "2026-03", "score": 88}
TICKET = {"kind": "incident", "priority": "P2", "title": "无法登录", "service_instance_id": NOWHERE}
INSTANCE = {"contract_id": NOWHERE, "line_no": 1, "name": "实例", "label_matchers": MATCHERS}
REQUEST = {"title": "云资源", "items": [{**ITEM, "service_id": NOWHERE}]}
BUDGET = {"department_id": NOWHERE, "fiscal_year": 2027, "amount": "1.00"}

BODY_REFERENCES: list[tuple[str, str, dict[str, Any], str]] = [
    ("department", "/api/v1/ratings", RATING, "service_instance_id"),
    ("department", "/api/v1/tickets", TICKET, "service_instance_id"),
    ("operator", "/api/v1/service-instances", INSTANCE, "contract_id"),
    ("operator", "/api/v1/maintenance-windows", WINDOW, "service_instance_ids.0"),
    ("department", "/api/v1/purchase-requests", REQUEST, "items.0.service_id"),
    ("bureau", "/api/v1/budgets", BUDGET, "department_id"),
    ("admin", "/api/v1/api-keys", {"user_id": NOWHERE, "name": "集成"}, "user_id"),
]


@pytest.mark.parametrize(("role", "path", "body", "field"), BODY_REFERENCES, ids=[row[1] for row in BODY_REFERENCES])
def test_a_body_reference_to_a_missing_object_is_422_naming_the_field(
    world: World, api: ApiFactory, role: str, path: str, body: dict[str, Any], field: str
) -> None:
    caller = api.as_(getattr(world, role))
    answer = caller.post(path, body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]], answer.text


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets", "/api/v1/ratings", "/api/v1/service-instances", "/api/v1/maintenance-windows"]
)
def test_a_path_to_a_missing_object_is_404(world: World, api: ApiFactory, path: str) -> None:
    assert api.as_(world.auditor).get(f"{path}/{NOWHERE}").status_code == 404
