"""What the line per request costs: the same server with request logging off and on (``OPSCENTER_LOG_REQUESTS``,
at INFO, text lines to a file as a service manager would collect them), for an authenticated read and an audited
write. Goal: logging on costs at most 1.1× the request without it (throughput off / on, and CPU per request).
On a shared machine those two move by more than the line costs; so the line's own cost is also timed in process
(the request middleware with logging off and on, text and JSON lines to a file) and set against GET /api/v1/me.

    .venv/bin/python -m bench.request_logging [--db sqlite|postgresql|both] [--seconds 10] [--connections 50]
"""

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from typing import Any

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
    # The server's CPU per request moves with whatever else a shared machine runs; the line's own cost, timed in
    # this process, does not. Set against the request it is added to:
    base = by_name["GET /api/v1/me, logging off"]
    for file_format in ("text", "json"):
        added = _line_cost(url, file_format)
        print(f"   the {file_format} line's own cost in process: {added:.1f} µs a request, "
              f"{ratio(base.cpu_ms + added / 1000, base.cpu_ms)} of GET /api/v1/me's {base.cpu_ms:.3f} ms CPU "
              f"(goal ≤ {GOAL:.2f}x)")  # fmt: skip


def _line_cost(url: str, file_format: str, *, rounds: int = 5, requests: int = 3000) -> float:
    """µs a request the line adds: ``RequestIdMiddleware`` around a bare answer with logging off and on, the lines
    written to a file through the handler and formatter ``serve`` installs (the best of ``rounds`` each)."""
    from opscenter.logs import configure_logging
    from opscenter.middleware import RequestIdMiddleware
    from opscenter.settings import LogFormat, LogLevel

    class Someone:
        user_id = "1c9f0e5b-0000-4000-8000-000000000000"

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        scope["user"], scope["path_template"] = Someone(), "/api/v1/me"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"{}"})

    async def sent(message: Any) -> None:
        return None

    async def received() -> Any:
        return {"type": "http.request"}

    async def per_request(middleware: RequestIdMiddleware) -> float:
        started = time.process_time()
        for _ in range(requests):
            scope: Any = {"type": "http", "method": "GET", "headers": [(b"accept", b"*/*")], "client": ("127.0.0.1", 1)}
            await middleware(scope, received, sent)
        return (time.process_time() - started) / requests * 1e6

    async def best() -> float:
        off = RequestIdMiddleware(answer, log_requests=False)
        on = RequestIdMiddleware(answer, log_requests=True)
        timings = [(await per_request(off), await per_request(on)) for _ in range(rounds)]
        return min(t for _, t in timings) - min(t for t, _ in timings)

    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    for handler in kept:
        root.removeHandler(handler)
    stderr = sys.stderr
    with tempfile.TemporaryFile("w", buffering=1) as lines:
        sys.stderr = lines  # the handler takes the stream it is made with: the lines go to the file
        try:
            configure_logging(
                settings_for(url, log_format=LogFormat(file_format)).model_copy(update={"log_level": LogLevel.INFO})
            )
        finally:
            sys.stderr = stderr
        try:
            return asyncio.run(best())
        finally:
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in kept:
                root.addHandler(handler)
            root.setLevel(level)


def main() -> None:
    parser = arguments(__doc__, load=True)
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]))
    with databases(chosen(args)) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
