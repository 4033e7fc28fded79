"""Lists at scale: a page of 50 purchase requests, first page and deep page, with 100,000 and 1,000,000 rows.

Seeds N purchase requests (one item each, ten departments, mixed states) straight into the tables, then
loads ``GET /api/v1/purchase-requests?limit=50`` as the bureau (the whole table) and as one department
(a tenth of it), on the first page and on a page near the end (its cursor found by walking the list),
each at 50 connections and at 1 (the cost of one page, unqueued). Baseline: ``/health``.

    .venv/bin/python bench/lists.py [--rows 100000 1000000] [--db sqlite|postgresql|both] [--seconds 10]
"""

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    HEALTH,
    Figure,
    Load,
    bulk_insert,
    check,
    databases,
    drive,
    identity,
    opscenter_server,
    print_figures,
    require_tools,
    settings_for,
    uuid7_at,
)

DEPARTMENTS = 10
STATUSES = ["approved"] * 6 + ["draft", "submitted", "returned", "rejected"]


def seed(url: str, rows: int) -> tuple[str, str]:
    """N requests with one item each over ten departments; returns (bureau key, department key)."""
    from contracts.purchasing.models import PurchaseItem, PurchaseRequest
    from opscenter.db import Database

    _, bureau_key = identity(
        url, user_name="bench.bureau", role="bureau", org_name="政务服务数据管理局", org_kind="bureau"
    )
    departments = []
    department_key = ""
    for number in range(DEPARTMENTS):
        org_id, key = identity(
            url, user_name=f"bench.dept{number}", role="department", org_name=f"部门{number}", org_kind="department"
        )
        departments.append(org_id)
        department_key = department_key or key
    database = Database(settings_for(url))
    service_id = _catalog_service(database)
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    ids = [uuid7_at(start + index * 10) for index in range(rows)]
    randomness = random.Random(7)
    departments_of = [departments[randomness.randrange(DEPARTMENTS)] for _ in range(rows)]
    statuses = [randomness.choice(STATUSES) for _ in range(rows)]
    began = time.monotonic()

    def requests() -> Iterator[dict[str, Any]]:
        for index, request_id in enumerate(ids):
            created = datetime.fromtimestamp((start + index * 10) / 1000, tz=UTC)
            yield {
                "id": request_id,
                "title": f"云资源申请 {index}",
                "department_id": departments_of[index],
                "status": statuses[index],
                "decision_note": "",
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }

    def items() -> Iterator[dict[str, Any]]:
        for request_id in ids:
            yield {
                "id": uuid.uuid4(),
                "purchase_request_id": request_id,
                "service_id": service_id,
                "quantity": 2,
                "start_date": date(2027, 1, 1),
                "end_date": date(2027, 12, 31),
                "justification": "bench",
                "position": 0,
                "unit_price_fen": 150000,
                "estimated_amount_fen": 3600000,
            }

    bulk_insert(database.engine, PurchaseRequest.__table__, requests())  # type: ignore[attr-defined]
    bulk_insert(database.engine, PurchaseItem.__table__, items())  # type: ignore[attr-defined]
    if database.engine.dialect.name == "postgresql":
        with database.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE purchase_request")
            connection.exec_driver_sql("VACUUM ANALYZE purchase_item")
    else:
        with database.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    database.dispose()
    print(f"   seeded {rows:,} purchase requests and their items in {time.monotonic() - began:.0f} s", flush=True)
    return bureau_key, department_key


def _catalog_service(database: Any) -> uuid.UUID:
    from contracts.catalog import service as catalog
    from contracts.catalog.models import CatalogServiceCreate
    from tests.factories import SETUP

    offer = {"code": "BENCH-ECS", "name": "云服务器", "category": "compute", "unit": "台/月", "list_price": "1500.00"}
    with database.transaction(write=True) as session:
        return catalog.create_service(session, CatalogServiceCreate.model_validate(offer), actor=SETUP).id


def cursor_near_end(base_url: str, key: str, *, leave: int = 100) -> str:
    """Walk the list 200 rows a page and return the cursor of the page that leaves ``leave`` rows."""
    headers = {"Authorization": f"Bearer {key}"}
    path = "/api/v1/purchase-requests"
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        total = client.get(path, params={"limit": 1, "count": "true"}).json()["total"]
        walked, cursor, previous = 0, None, None
        while walked < total - leave:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = client.get(path, params=params).json()
            walked += len(page["items"])
            previous, cursor = cursor, page["next_cursor"]
            if cursor is None:
                break
    return str(cursor or previous)


def run(db_name: str, url: str, rows: int, args: argparse.Namespace) -> None:
    bureau_key, department_key = seed(url, rows)
    figures: list[Figure] = []
    with opscenter_server(url) as server:
        bureau = {"Authorization": f"Bearer {bureau_key}"}
        department = {"Authorization": f"Bearer {department_key}"}
        page = "/api/v1/purchase-requests?limit=50"
        deep_bureau = cursor_near_end(server.base_url, bureau_key)
        deep_department = cursor_near_end(server.base_url, department_key)
        loads = [
            Load("bureau, first page", page, headers=bureau, baseline=HEALTH.name),
            Load("bureau, page near the end", f"{page}&cursor={deep_bureau}", headers=bureau, baseline=HEALTH.name),
            Load("department, first page", page, headers=department, baseline=HEALTH.name),
            Load(
                "department, page near the end",
                f"{page}&cursor={deep_department}",
                headers=department,
                baseline=HEALTH.name,
            ),
        ]
        for connections in (args.connections, 1):
            for load in [HEALTH, *loads]:
                check(server, load)
                figure = drive(server, load, seconds=args.seconds, connections=connections)
                figures.append(
                    Figure(**{**figure.__dict__, "name": f"{load.name} [{connections} conn]"})
                    if connections != args.connections
                    else figure
                )
        # Baselines are matched by name: the 1-connection figures compare with the 1-connection /health.
        single = f"{HEALTH.name} [1 conn]"
        figures = [
            Figure(**{**f.__dict__, "baseline": single}) if f.name.endswith("[1 conn]") and f.name != single else f
            for f in figures
        ]
    print_figures(f"{db_name}: a page of 50 purchase requests, {rows:,} rows, {args.seconds} s each", figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    require_tools()
    which = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for rows in args.rows:
        with databases(which) as urls:
            for db_name, url in urls.items():
                run(db_name, url, rows, args)


if __name__ == "__main__":
    main()
