"""What the line per request costs: the same server with request logging off and on (``OPSCENTER_LOG_REQUESTS``,
at INFO, text lines to a file as a service manager would collect them), for an authenticated read and an audited
write. Goal: logging on costs at most 1.1× the request without it (throughput off / on, and CPU per request).

    .venv/bin/python -m bench.request_logging [--db sqlite|postgresql|both] [--seconds 10] [--connections 50]
"""

import argparse
import json

from bench.harness import (
    Figure,
    Load,
    arguments,
    check,
    chosen,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
)
from bench.harness.report import ratio

GOAL = 1.1


def _loads(key: str, service_id: str, *, suffix: str, baseline: str | None) -> list[Load]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    item = {"service_id": service_id, "quantity": 2, "start_date": "2027-01-01", "end_date": "2027-12-31",
            "justification": "bench"}  # fmt: skip
    body = json.dumps({"title": "bench", "items": [item]})
    return [
        Load(f"GET /api/v1/me, {suffix}", "/api/v1/me", headers=headers,
             baseline=f"GET /api/v1/me, {baseline}" if baseline else None),
        Load(f"POST /api/v1/purchase-requests (audited), {suffix}", "/api/v1/purchase-requests", method="POST",
             headers=headers, body=body,
             baseline=f"POST /api/v1/purchase-requests (audited), {baseline}" if baseline else None),
    ]  # fmt: skip


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    from bench import seed
    from opscenter.db import Database

    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = str(seed.catalog_service(database, people))
    finally:
        database.dispose()
    load = options(args)
    key = people.departments[0].key
    figures: list[Figure] = []
    for logging_on in (False, True):
        suffix = "logging on" if logging_on else "logging off"
        loads = _loads(key, service_id, suffix=suffix, baseline="logging off" if logging_on else None)
        with opscenter_server(url, log_level="INFO", log_requests=str(logging_on).lower()) as server:
            for request in loads:
                check(server, request, expect=201 if request.method == "POST" else 200)
                figures.append(drive(server, request, load))
    print_figures(f"{db_name}: request logging off and on, {load.connections} connections, {each(load)}", figures)
    by_name = {figure.name: figure for figure in figures}
    for figure in figures:
        base = by_name.get(figure.baseline or "")
        if base is None:
            continue
        # The cost: how much more each request takes with its line, by throughput and by the server's CPU.
        throughput = ratio(base.requests_per_second, figure.requests_per_second)
        cpu = ratio(figure.cpu_ms, base.cpu_ms)
        print(f"   cost of the log line, {figure.name.rsplit(',', 1)[0]}: {throughput} by throughput, {cpu} by CPU "
              f"per request (goal ≤ {GOAL:.2f}x)")  # fmt: skip


def main() -> None:
    parser = arguments(__doc__, load=True)
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]))
    with databases(chosen(args)) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
