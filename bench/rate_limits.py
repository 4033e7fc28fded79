"""What the rate limits cost: the audited write and an authenticated read with them on (limits set far above the
load, so none is refused) beside the same requests with them off, counted in the process and in Redis.

Per database, the real ``opscenter serve`` three times: ``OPSCENTER_RATE_LIMITS=false``; on, counting in the process
(the embedded default); on, counting in a ``redis-server`` this benchmark starts on a free port (Debian's package).
Loads: ``GET /api/v1/me`` with a department's key (the cheapest authenticated read: the limit's share is largest
there) and ``POST /api/v1/purchase-requests`` (validated, audited). Goal: each costs at most 1.1x with the limits
on; the figure compared is the server's CPU time per request (steadier on a shared machine than req/s), printed
with throughput beside it.

    .venv/bin/python -m bench.rate_limits [--db sqlite|postgresql|both] [--seconds 10] [--connections 50] [--pin]
"""

import argparse
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.harness import (
    Figure,
    Load,
    Server,
    arguments,
    check,
    chosen,
    databases,
    drive,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
)

GOAL = 1.10
MODES = ("limits off", "in process", "in Redis")


def _server(url: str, mode: str, redis_url: str, *, pin: bool) -> Server:
    if mode == "limits off":
        return opscenter_server(url, pin=pin, rate_limits="false")
    if mode == "in Redis":
        return opscenter_server(url, pin=pin, redis_url=redis_url)
    return opscenter_server(url, pin=pin)


def run(db_name: str, url: str, args: argparse.Namespace, redis_url: str) -> None:
    from bench import seed
    from opscenter.db import Database

    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
    finally:
        database.dispose()
    load = options(args)
    headers = {"Authorization": f"Bearer {people.departments[0].key}", "Content-Type": "application/json"}
    item = {"service_id": str(service_id), "quantity": 2, "start_date": "2027-01-01", "end_date": "2027-12-31",
            "justification": "bench"}  # fmt: skip
    body = json.dumps({"title": "bench", "items": [item]})
    figures: list[Figure] = []
    for mode in MODES:
        with _server(url, mode, redis_url, pin=args.pin) as server:
            read = Load(f"GET /api/v1/me, {mode}", "/api/v1/me", headers=headers,
                        baseline=None if mode == "limits off" else "GET /api/v1/me, limits off")  # fmt: skip
            write = Load(
                f"POST /api/v1/purchase-requests, {mode}", "/api/v1/purchase-requests", method="POST",
                headers=headers, body=body,
                baseline=None if mode == "limits off" else "POST /api/v1/purchase-requests, limits off",
            )  # fmt: skip
            for request in (read, write):
                check(server, request, expect=201 if request.method == "POST" else 200)
                figures.append(drive(server, request, load))
    print_figures(f"{db_name}: rate limits on (never reached) beside off, {load.connections} connections", figures)
    by_name = {figure.name: figure for figure in figures}
    print(f"\n== {db_name}: cost per request with the limits on, beside off (CPU ms per request; goal <= {GOAL:.2f}x)")
    for shape in ("GET /api/v1/me", "POST /api/v1/purchase-requests"):
        off = by_name[f"{shape}, limits off"]
        for mode in ("in process", "in Redis"):
            on = by_name[f"{shape}, {mode}"]
            cost = on.cpu_ms / off.cpu_ms if off.cpu_ms > 0 else 0.0
            verdict = "within the goal" if cost <= GOAL else "ABOVE the goal"
            print(f"{shape + ', ' + mode:<52} {on.cpu_ms:7.3f} ms vs {off.cpu_ms:7.3f} ms   {cost:.2f}x  {verdict}")


def main() -> None:
    parser = arguments(__doc__, load=True)
    args = parser.parse_args()
    require_tools("redis-server", *([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    from tests.redis import redis_server

    with ExitStack() as stack, databases(chosen(args)) as urls:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-redis-")))
        redis_url = stack.enter_context(redis_server(directory))
        for db_name, url in urls.items():
            run(db_name, url, args, redis_url)


if __name__ == "__main__":
    main()
