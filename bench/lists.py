"""Lists at scale: a page of 50 purchase requests, first page and deep page, with 100,000 and 1,000,000 rows.

Seeds N purchase requests (one item each, ten departments, mixed states), then loads
``GET /api/v1/purchase-requests?limit=50`` as the bureau (the whole table) and as one department (a tenth of it),
on the first page and on a page near the end (its cursor found by walking the list), each at 50 connections and
at 1 (the cost of one page, unqueued). Baseline: ``/health``.

The seed: one request in each state made through the domain (drafted, submitted, returned, rejected, approved
against a budget: ``contracts.purchasing`` service and flows), then copies of those rows and their items in bulk
(``bench.seed.copy_rows``, through ``opscenter.db.insert_rows``) up to N, each under its own id, department and
creation time: at this volume the flows would take hours, and the list reads only the rows.

    .venv/bin/python -m bench.lists [--rows 100000 1000000] [--db sqlite|postgresql|both] [--seconds 10] [--pin]
"""

import argparse
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import seed
from bench.harness import (
    HEALTH,
    Figure,
    Load,
    arguments,
    check,
    chosen,
    cursor_near_end,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
    settle,
)
from contracts.budgets import service as budgets
from contracts.budgets.models import BudgetCreate
from contracts.purchasing import flows
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseItem, PurchaseItemIn, PurchaseRequest, PurchaseRequestIn
from opscenter.db import Database

DEPARTMENTS = 10
STATUSES = ["approved"] * 6 + ["draft", "submitted", "returned", "rejected"]


def seed_requests(url: str, rows: int) -> tuple[str, str]:
    """N requests with one item each over ten departments; returns (bureau key, a department's key)."""
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=DEPARTMENTS)
        service_id = seed.catalog_service(database, people)
        templates = _one_in_each_state(database, people, service_id)
        began = time.monotonic()
        copied = _copies(database, people, templates, rows - len(templates))
    finally:
        database.dispose()
    settle(url, "purchase_request", "purchase_item")
    print(
        f"   seeded {len(templates) + copied:,} purchase requests and their items in {time.monotonic() - began:.0f} s"
    )
    return people.drafter.key, people.departments[0].key


def _one_in_each_state(
    database: Database, people: seed.Cast, service_id: uuid.UUID
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """A real request in each state, by the first department, decided by the bureau: (request row, item row)."""
    department, bureau = people.actor(people.departments[0]), people.actor(people.drafter)
    item = PurchaseItemIn(
        service_id=service_id,
        quantity=2,
        start_date=date(2027, 1, 1),
        end_date=date(2027, 12, 31),
        justification="压测",
    )
    made = {}
    with database.transaction(write=True) as session:
        budgets.create_budget(
            session,
            BudgetCreate(
                department_id=people.departments[0].organization_id, fiscal_year=2027, amount=Decimal("1000000.00")
            ),
            actor=bureau,
        )
        for status in dict.fromkeys(STATUSES):
            request = purchasing.create_request(
                session, PurchaseRequestIn(title=f"云资源申请（{status}）", items=[item]), actor=department
            )
            if status != "draft":
                request = flows.submit(session, request.id, actor=department, expected_version=request.version)
            version = request.version
            if status == "approved":
                request = flows.approve(session, request.id, actor=bureau, expected_version=version)
            elif status == "returned":
                request = flows.send_back(session, request.id, actor=bureau, expected_version=version, comment="补充")
            elif status == "rejected":
                request = flows.reject(session, request.id, actor=bureau, expected_version=version, reason="不予采购")
            made[status] = (
                seed.row_of(session, PurchaseRequest, request.id),
                seed.row_of(session, PurchaseItem, request.items[0].id),
            )
    return made


def _copies(
    database: Database, people: seed.Cast, templates: dict[str, tuple[dict[str, Any], dict[str, Any]]], count: int
) -> int:
    """``count`` copies of the templates, made 10 ms apart through 2026, by one of the departments."""
    randomness = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    departments = people.department_ids
    plan = [
        (
            seed.uuid7_at(start + timedelta(milliseconds=10 * n)),
            randomness.choice(departments),
            randomness.choice(STATUSES),
        )
        for n in range(count)
    ]

    def requests() -> Iterator[dict[str, Any]]:
        for n, (request_id, department_id, status) in enumerate(plan):
            created = start + timedelta(milliseconds=10 * n)
            yield {
                **templates[status][0],
                "id": request_id,
                "title": f"云资源申请 {n}",
                "department_id": department_id,
                "created_at": created,
                "updated_at": created,
            }

    def items() -> Iterator[dict[str, Any]]:
        for request_id, _, status in plan:
            yield {**templates[status][1], "id": uuid.uuid4(), "purchase_request_id": request_id}

    copied = seed.copy_rows(database, PurchaseRequest, requests())
    seed.copy_rows(database, PurchaseItem, items())
    return copied


def run(db_name: str, url: str, rows: int, args: argparse.Namespace) -> None:
    bureau_key, department_key = seed_requests(url, rows)
    load = options(args)
    figures: list[Figure] = []
    with opscenter_server(url, pin=args.pin) as server:
        bureau = {"Authorization": f"Bearer {bureau_key}"}
        department = {"Authorization": f"Bearer {department_key}"}
        page = "/api/v1/purchase-requests?limit=50"
        deep_bureau = cursor_near_end(server, bureau_key, "/api/v1/purchase-requests")
        deep_department = cursor_near_end(server, department_key, "/api/v1/purchase-requests")
        loads = [
            Load("bureau, first page", page, headers=bureau),
            Load("bureau, page near the end", f"{page}&cursor={deep_bureau}", headers=bureau),
            Load("department, first page", page, headers=department),
            Load("department, page near the end", f"{page}&cursor={deep_department}", headers=department),
        ]
        for connections in (load.connections, 1):
            suffix = f" [{connections} conn]"
            for request in [HEALTH, *loads]:
                check(server, request)
                figure = drive(server, request, load, connections=connections)
                baseline = None if request is HEALTH else HEALTH.name + suffix
                figures.append(replace(figure, name=request.name + suffix, baseline=baseline))
    print_figures(f"{db_name}: a page of 50 purchase requests, {rows:,} rows, {each(load)}", figures)


def main() -> None:
    parser = arguments(__doc__, load=True)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    for rows in args.rows:
        with databases(chosen(args)) as urls:
            for db_name, url in urls.items():
                run(db_name, url, rows, args)


if __name__ == "__main__":
    main()
