"""Audited writes with 1, 2 and 4 API processes on PostgreSQL: does throughput grow until the database is the limit?

For each process count, ``opscenter serve --workers N --no-scheduler`` on a scratch PostgreSQL database, loaded by
wrk for each scenario (every request an authenticated, validated insert with its audit event).
While wrk runs, a sampler reads ``pg_stat_activity`` every 50 ms and the CPU time of the database's backends
(``/proc/<pid>/stat``), so each line says how busy the database itself was:

- ``db cpu``: CPU seconds of the backends serving the bench database per wall second (1.00 = one core busy);
- ``aas``: average active sessions (backends running a statement or waiting inside one), and the top wait;
- ``host``: how busy the whole machine was (wrk and the API processes share it with the database).

Throughput grows with processes while the API processes are the limit; it stops growing when the database is
(``aas`` near the pool, waits on locks, or ``db cpu`` taking what the host has left).

    .venv/bin/python -m bench.scale_out [--seconds 10] [--connections 32] [--processes 1,2,4] [--scenario NAME]

A scenario is one ``Scenario`` in ``SCENARIOS``: a name, and the load it sends given the set-up's keys and ids.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench import seed
from bench.harness import (
    Figure,
    Load,
    PostgresActivity,
    arguments,
    check,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
)
from opscenter.db import Database


@dataclass(frozen=True)
class Fixture:
    """What the set-up made: keys by role, ids by name."""

    keys: dict[str, str]
    ids: dict[str, str]


@dataclass(frozen=True)
class Scenario:
    name: str
    load: Callable[[Fixture], Load]


def _purchase_request(fixture: Fixture) -> Load:
    item = {
        "service_id": fixture.ids["service_id"],
        "quantity": 1,
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "justification": "压测",
    }
    return Load(
        "POST /api/v1/purchase-requests",
        "/api/v1/purchase-requests",
        method="POST",
        headers={"Authorization": f"Bearer {fixture.keys['department']}", "Content-Type": "application/json"},
        body=json.dumps({"title": "压测-{n}", "items": [item]}, ensure_ascii=False),
    )


SCENARIOS = [Scenario("purchase-request", _purchase_request)]


def set_up(url: str) -> Fixture:
    """An operations center and a department with their keys, and a catalog service, through the services."""
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
    finally:
        database.dispose()
    return Fixture(
        keys={"operator": people.operator.key, "department": people.departments[0].key},
        ids={"service_id": str(service_id)},
    )


def _host_busy() -> tuple[int, int]:
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def main() -> None:
    parser = arguments(__doc__, databases=["postgresql"], load=True, connections=32, pin=False)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measured one")
    parser.add_argument("--processes", default="1,2,4", help="API process counts, comma-separated")
    parser.add_argument("--scenario", action="append", help="only these scenarios (default: all)")
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]))
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    counts = [int(count) for count in args.processes.split(",")]
    load, warm = options(args, pin=False), options(args, pin=False, seconds=args.warmup)
    print(f"{os.cpu_count()} cores on this host; {load.connections} connections, {each(load)}")
    with databases(["postgresql"]) as urls:
        url = urls["postgresql"]
        fixture = set_up(url)
        figures: list[Figure] = []
        for processes in counts:
            # up to 16 connections a process: 64 at 4 processes, under max_connections
            with opscenter_server(url, workers=processes, db_pool_size="8") as server:
                for scenario in scenarios:
                    request = scenario.load(fixture)
                    check(server, request, expect=201)
                    drive(server, request, warm)
                    host = _host_busy()
                    with PostgresActivity(url, interval=0.05) as activity:
                        figure = drive(server, request, load)
                    busy = _host_busy()
                    share = (busy[0] - host[0]) / max(busy[1] - host[1], 1)
                    first = f"{scenario.name}, 1 process"
                    name = f"{scenario.name}, {processes} process{'es' if processes > 1 else ''}"
                    figures.append(replace(figure, name=name, baseline=None if name == first else first))
                    print(
                        f"   {name}: db cpu {activity.db_cores:.2f} cores | aas {activity.average_active:4.1f}"
                        f" ({activity.summary(3)}) | host {100 * share:.0f}% busy",
                        flush=True,
                    )
        print_figures("audited writes by API processes (PostgreSQL)", figures)


if __name__ == "__main__":
    main()
