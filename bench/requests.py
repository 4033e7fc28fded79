"""The house's cost per request: an authenticated read and an audited write, beside their baselines.

Per database (SQLite, PostgreSQL), one run, 50 connections by default (``--pin``: the server on one core, wrk on
the other):

- ``GET /health`` (no key, no database): the floor every request pays;
- ``GET /api/v1/me`` with a department's API key, against ``/health`` (goal ≥ 0.5×);
- ``GET /api/v1/services?limit=50`` (a handful of rows), against ``/health``;
- ``POST /api/v1/purchase-requests`` (one item, validated, audited), against a bare Litestar endpoint
  inserting one row into the same database (goal ≥ 0.5×, p99 ≤ 100 ms);
- the house's floor for that write (``bench/floor.py``: the same authentication, validation, worker thread
  and session, and no SQL), against the same bare insert: what is left for the write's own database work.

On PostgreSQL it also samples ``pg_stat_activity`` during the write load and prints what the server's
connections were doing: running, waiting for a lock (the audit chain head), or waiting for the app.

    .venv/bin/python -m bench.requests [--db sqlite|postgresql|both] [--seconds 10] [--connections 50] [--pin]
        [--profile DIR]   # py-spy samples of each OpsCenter load, with the top frames printed
"""

import argparse
import json

from bench.floor import FLOOR_PATH
from bench.harness import (
    BARE_INSERT,
    HEALTH,
    Figure,
    Load,
    Options,
    PostgresActivity,
    Server,
    arguments,
    bare_server,
    check,
    chosen,
    databases,
    drive,
    each,
    floor_server,
    opscenter_server,
    options,
    print_figures,
    print_profile,
    profiled,
    require_tools,
    settings_for,
)


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    from bench import seed
    from opscenter.db import Database

    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
    finally:
        database.dispose()
    load = options(args)
    as_department = {"Authorization": f"Bearer {people.departments[0].key}", "Content-Type": "application/json"}
    item = {
        "service_id": str(service_id),
        "quantity": 2,
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "justification": "bench",
    }
    body = json.dumps({"title": "bench", "items": [item]})
    figures: list[Figure] = []
    with opscenter_server(url, pin=args.pin) as server:
        loads = [
            HEALTH,
            Load("GET /api/v1/me", "/api/v1/me", headers=as_department, baseline=HEALTH.name),
            Load(
                "GET /api/v1/services?limit=50",
                "/api/v1/services?limit=50",
                headers=as_department,
                baseline=HEALTH.name,
            ),
            Load(
                "POST /api/v1/purchase-requests (audited)",
                "/api/v1/purchase-requests",
                method="POST",
                headers=as_department,
                body=body,
                baseline=BARE_INSERT.name,
            ),
        ]
        for request in loads:
            check(server, request, expect=201 if request.method == "POST" else 200)
            slug = request.path.strip("/").split("?")[0].replace("/", "_")
            out = args.profile / f"{db_name}-{request.method}-{slug}.txt" if args.profile else None
            with profiled(server, out):
                figures.append(_measured(db_name, url, server, request, load))
            if out is not None:
                print_profile(request.name, out)
    with floor_server(url, pin=args.pin) as floor:
        floor_load = Load(
            "house floor: same POST, no SQL", FLOOR_PATH, method="POST", headers=as_department, body=body,
            baseline=BARE_INSERT.name,
        )  # fmt: skip
        check(floor, floor_load, expect=201)
        figures.append(drive(floor, floor_load, load))
    with bare_server(url, pin=args.pin) as bare:
        check(bare, BARE_INSERT, expect=201)
        figures.append(drive(bare, BARE_INSERT, load))
    print_figures(f"{db_name}: cost per request, {load.connections} connections, {each(load)}", figures)


def _measured(db_name: str, url: str, server: Server, request: Load, load: Options) -> Figure:
    """wrk's figure; for a write on PostgreSQL also what the connections were doing meanwhile."""
    if db_name != "postgresql" or request.method != "POST":
        return drive(server, request, load)
    with PostgresActivity(url, interval=0.005) as activity:
        figure = drive(server, request, load)
    print(f"   pg_stat_activity during {request.name}: {activity.summary()}")
    return figure


def main() -> None:
    parser = arguments(__doc__, load=True)
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    with databases(chosen(args)) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
