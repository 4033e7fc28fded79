"""Does a scheduled job stall the API? ``opscenter serve`` (with its scheduler) on a freshly seeded demo, with
Prometheus away, timed from the outside.

For each way Prometheus can be away, on a fresh copy of the demo province (``opscenter demo``):

- refused: nothing listens at ``OPSCENTER_PROMETHEUS_URL`` (a fresh install without Prometheus);
- hanging: a TCP server that accepts and never answers (a Prometheus wedged, or a firewall that drops).

``opscenter serve`` starts with the retries, backoff and timeouts at their defaults; its scheduler runs at once
every job that never ran (the SLA pull among them). As soon as ``/health`` answers, the department's key asks for a
list page (the first authenticated request: the issue's 7.06 s), then for ``--seconds`` reads and writes alternate
(``GET /api/v1/service-instances``, ``POST /api/v1/purchase-requests`` with a new draft), each on a fresh connection.
The baseline is the same server on the same fresh demo with ``--no-scheduler``: no job runs at all.

    python -m bench.job_stall [--db sqlite|postgresql|both] [--seconds 12] [--scenarios refused,hanging]

Printed per scenario: the first request's latency, p50 and max of the reads and of the writes, each beside the
baseline's, and the statuses. Figures from a shared machine are noisy.
"""

import contextlib
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench.harness import BIN, Server, Timing, arguments, chosen, databases, print_timings
from bench.harness.servers import UNREACHED_RATE_LIMITS
from tests import loopback
from tests.prometheus import Hanging, refusing_url


def seed_demo(url: str) -> dict[str, str]:
    """``opscenter demo`` on ``url``; the keys it prints, by role."""
    env = {**os.environ, "OPSCENTER_DATABASE_URL": url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(BIN / "opscenter"), "demo"], env=env, capture_output=True, text=True, check=True)
    return {fields[0]: fields[2] for fields in (line.split("\t") for line in done.stdout.splitlines() if "\t" in line)}


def orderable_service(url: str) -> str:
    """An active catalog service's id, read before the server starts (its answers are what is measured)."""
    from sqlalchemy import create_engine, text

    from opscenter.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT id FROM catalog_service WHERE status = 'active' LIMIT 1"))
            return str(uuid.UUID(str(found.scalar_one())))
    finally:
        engine.dispose()


def timed(method: str, url: str, **kwargs: object) -> tuple[float, int]:
    started = time.perf_counter()
    response = loopback.request(method, url, timeout=60, headers=kwargs.pop("headers", None), **kwargs)
    return time.perf_counter() - started, response.status_code


@dataclass(frozen=True)
class Observed:
    first: float
    reads: list[float]
    writes: list[float]
    statuses: dict[int, int]


def scenario(db_url: str, name: str, seconds: float, *, scheduler: bool) -> Observed:
    keys = seed_demo(db_url)
    service_id = orderable_service(db_url)
    headers = {"Authorization": f"Bearer {keys['department']}"}
    hanging = Hanging() if name == "hanging" else None
    prometheus_url = hanging.url if hanging is not None else refusing_url()
    env = {"OPSCENTER_DATABASE_URL": db_url, "OPSCENTER_PROMETHEUS_URL": prometheus_url, **UNREACHED_RATE_LIMITS}
    command = [str(BIN / "opscenter"), "serve", *([] if scheduler else ["--no-scheduler"])]
    server = Server(command, env, ready_path="/health")
    # the hanging Prometheus answers (400) once the figures are taken, so the server stops without waiting it out
    with server, hanging or contextlib.nullcontext():
        base = server.base_url
        first, first_status = timed("GET", f"{base}/api/v1/service-instances", headers=headers)
        draft = {
            "title": "2027年云资源",
            "items": [{"service_id": service_id, "quantity": 1, "start_date": "2027-01-01",
                       "end_date": "2027-12-31", "justification": "压力测试"}],
        }  # fmt: skip
        reads: list[float] = []
        writes: list[float] = []
        statuses: dict[int, int] = {first_status: 1}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for kind, (method, path, body) in (
                ("read", ("GET", "/api/v1/service-instances", None)),
                ("write", ("POST", "/api/v1/purchase-requests", draft)),
            ):
                elapsed, status = timed(method, f"{base}{path}", headers=headers, json=body)
                (reads if kind == "read" else writes).append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
    return Observed(first, reads, writes, statuses)


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--scenarios", default="refused,hanging")
    args = parser.parse_args()
    for backend in chosen(args):
        for name in args.scenarios.split(","):
            observed = {}
            for scheduler in (False, True):
                with databases([backend]) as urls:
                    observed[scheduler] = scenario(urls[backend], name, args.seconds, scheduler=scheduler)
            timings = []
            picks: tuple[tuple[str, Callable[[Observed], float]], ...] = (
                ("first authenticated request", lambda o: o.first),
                ("list page p50", lambda o: statistics.median(o.reads)),
                ("list page max", lambda o: max(o.reads)),
                ("draft request p50", lambda o: statistics.median(o.writes)),
                ("draft request max", lambda o: max(o.writes)),
            )
            for label, pick in picks:
                quiet = f"{label}, no scheduler"
                timings.append(Timing(quiet, pick(observed[False])))
                timings.append(Timing(f"{label}, scheduler on", pick(observed[True]), baseline=quiet))
            answers = ", ".join(f"{count}x {status}" for status, count in sorted(observed[True].statuses.items()))
            print_timings(f"opscenter serve on a fresh demo ({backend}), Prometheus {name}: answers {answers}", timings)
            if any(status >= 500 for status in observed[True].statuses):
                raise SystemExit(f"{name}: the server answered 5xx while its jobs ran")


if __name__ == "__main__":
    main()
