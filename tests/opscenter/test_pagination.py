"""Keyset pages: every row exactly once, cursors that only their own list and caller can use."""

import threading
from typing import Any

from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World

PATH = "/api/v1/purchase-requests"


def _all_pages(client: Any, params: dict[str, str]) -> tuple[list[str], list[str | None]]:
    """Every id of the list, following next_cursor, and the cursors used on the way."""
    seen: list[str] = []
    cursors: list[str | None] = []
    cursor = None
    while True:
        page = steps.ok(client.get(PATH, params={**params, **({"cursor": cursor} if cursor else {})}))
        assert set(page) == {"items", "limit", "next_cursor", "total"}
        seen += [item["id"] for item in page["items"]]
        cursors.append(cursor)
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, cursors


def test_every_row_comes_exactly_once_across_pages_while_rows_are_inserted(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    department = api.as_(world.department)
    existing = {steps.draft_request(api, world.department, steps.item(service))["id"] for _ in range(12)}
    inserted: list[str] = []
    stop = threading.Event()

    def insert_meanwhile() -> None:
        writer = api.as_(world.department)
        while not stop.is_set() and len(inserted) < 30:
            inserted.append(steps.ok(writer.post(PATH, {"title": "新增", "items": [steps.item(service)]}), 201)["id"])

    inserter = threading.Thread(target=insert_meanwhile)
    inserter.start()
    try:
        seen, _ = _all_pages(department, {"limit": "5"})
    finally:
        stop.set()
        inserter.join()
    assert len(seen) == len(set(seen)), "no row twice"
    assert existing <= set(seen), "no row that was there from the start is skipped"
    assert set(seen) <= existing | set(inserted)
    newest_first = sorted(seen, reverse=True)
    assert seen == newest_first, "newest first (UUIDv7 ids), a stable order"


def test_count_only_when_asked_and_offset_is_refused(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    for _ in range(3):
        steps.draft_request(api, world.department, steps.item(service))
    department = api.as_(world.department)
    assert steps.ok(department.get(PATH, params={"limit": "2"}))["total"] is None
    counted = steps.ok(department.get(PATH, params={"limit": "2", "count": "true"}))
    assert (counted["total"], len(counted["items"]), counted["limit"]) == (3, 2, 2)
    offset = department.get(PATH, params={"offset": "2"})
    assert offset.status_code == 400
    assert [error["field"] for error in offset.json()["errors"]] == ["offset"]


def test_a_tampered_or_foreign_cursor_is_refused_naming_the_cursor(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world, code="ECS-A")
    steps.catalog_service(api, world, code="ECS-B")
    for _ in range(3):
        steps.draft_request(api, world.department, steps.item(service))
    department = api.as_(world.department)
    cursor = steps.ok(department.get(PATH, params={"limit": "1"}))["next_cursor"]
    services_cursor = steps.ok(department.get("/api/v1/services", params={"limit": "1"}))["next_cursor"]
    draft_cursor = steps.ok(department.get(PATH, params={"limit": "1", "status": "draft"}))["next_cursor"]
    assert None not in (cursor, services_cursor, draft_cursor)
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    attempts = {
        "tampered": (PATH, {"cursor": flipped}),
        "truncated": (PATH, {"cursor": cursor[:-3]}),
        "garbage": (PATH, {"cursor": "not-a-cursor"}),
        "another list's": (PATH, {"cursor": services_cursor}),
        "other filters'": (PATH, {"cursor": draft_cursor, "status": "submitted"}),
    }
    for name, (path, params) in attempts.items():
        answer = department.get(path, params=params)
        assert answer.status_code == 400, name
        assert answer.headers["content-type"] == "application/problem+json", name
        assert [error["field"] for error in answer.json()["errors"]] == ["cursor"], name
    assert department.get(PATH, params={"limit": "1", "cursor": cursor}).status_code == 200, "the real one works"


def test_a_departments_cursor_never_reveals_another_departments_rows(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    own = {steps.draft_request(api, world.department, steps.item(service))["id"] for _ in range(3)}
    theirs = {steps.draft_request(api, world.department_b, steps.item(service))["id"] for _ in range(3)}
    seen_a, cursors_a = _all_pages(api.as_(world.department), {"limit": "1"})
    seen_b, _ = _all_pages(api.as_(world.department_b), {"limit": "1"})
    assert (set(seen_a), set(seen_b)) == (own, theirs)

    other = api.as_(world.department_b)
    for cursor in cursors_a[1:]:
        answer = other.get(PATH, params={"limit": "1", "cursor": cursor})
        assert answer.status_code == 400, "a cursor belongs to the caller who was given it"
        assert [error["field"] for error in answer.json()["errors"]] == ["cursor"]
    bureau_cursor = steps.ok(api.as_(world.bureau).get(PATH, params={"limit": "1"}))["next_cursor"]
    refused = other.get(PATH, params={"limit": "1", "cursor": bureau_cursor})
    assert refused.status_code == 400, "nor does the bureau's cursor open the whole list to a department"


def test_an_order_of_mixed_directions_pages_through_every_row_once(world: World, api: ApiFactory) -> None:
    made = [
        steps.budget(api, world, who, year, "1000.00")["id"]
        for who in (world.department, world.department_b)
        for year in (2026, 2027, 2028)
    ]
    bureau = api.as_(world.bureau)
    seen, years, cursor = [], [], None
    while True:
        page = steps.ok(bureau.get("/api/v1/budgets", params={"limit": "1", **({"cursor": cursor} if cursor else {})}))
        seen += [budget["id"] for budget in page["items"]]
        years += [budget["fiscal_year"] for budget in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    assert years == [2028, 2028, 2027, 2027, 2026, 2026], "fiscal year descending, then id"
