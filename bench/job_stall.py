"""Does a scheduled job stall the API? ``opscenter serve`` (with its scheduler) on a freshly seeded demo, with
Prometheus away, timed from the outside.

For each way Prometheus can be away, on a fresh copy of the demo province (``opscenter demo``):

- refused: nothing listens at ``OPSCENTER_PROMETHEUS_URL`` (a fresh install without Prometheus);
- hanging: a TCP server that accepts and never answers (a Prometheus wedged, or a firewall that drops).

``opscenter serve`` starts with the retries, backoff and timeouts at their defaults; its scheduler runs at once
every job that never ran (the SLA pull among them). As soon as ``/health`` answers, the department's key asks for a
list page (the first authenticated request: the issue's 7.06 s), then for ``--seconds`` reads and writes alternate
(``GET /api/v1/service-instances``, ``POST /api/v1/purchase-requests`` with a new draft), each on a fresh connection.

    .venv/bin/python bench/job_stall.py [--db sqlite|postgresql] [--seconds 12] [--scenarios refused,hanging]

Printed per scenario: the first request's latency, then p50 and max of the reads and of the writes, and their
statuses. Figures from a shared machine are noisy.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import BIN, Server, databases  # noqa: E402
from tests.prometheus import Hanging, refusing_url  # noqa: E402


def seed_demo(url: str) -> dict[str, str]:
    """``opscenter demo`` on ``url``; the keys it prints, by role."""
    env = {**os.environ, "OPSCENTER_DATABASE_URL": url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(BIN / "opscenter"), "demo"], env=env, capture_output=True, text=True, check=True)
    return {role: key for role, _name, key in (line.split("\t") for line in done.stdout.splitlines() if "\t" in line)}


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
    response = httpx.request(method, url, timeout=60, headers=kwargs.pop("headers", None), **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - started, response.status_code


def scenario(db_url: str, name: str, seconds: float) -> str:
    keys = seed_demo(db_url)
    service_id = orderable_service(db_url)
    headers = {"Authorization": f"Bearer {keys['department']}"}
    hanging = Hanging() if name == "hanging" else None
    prometheus_url = hanging.url if hanging is not None else refusing_url()
    env = {"OPSCENTER_DATABASE_URL": db_url, "OPSCENTER_PROMETHEUS_URL": prometheus_url}
    server = Server([str(BIN / "opscenter"), "serve"], env, "/health")
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
        statuses: dict[int, int] = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for kind, (method, path, body) in (
                ("read", ("GET", "/api/v1/service-instances", None)),
                ("write", ("POST", "/api/v1/purchase-requests", draft)),
            ):
                elapsed, status = timed(method, f"{base}{path}", headers=headers, json=body)
                (reads if kind == "read" else writes).append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
    answers = ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))
    return (
        f"first request {1000 * first:7.0f} ms ({first_status}) | "
        f"reads p50 {1000 * statistics.median(reads):5.0f} ms max {1000 * max(reads):6.0f} ms | "
        f"writes p50 {1000 * statistics.median(writes):5.0f} ms max {1000 * max(writes):6.0f} ms | {answers}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--scenarios", default="refused,hanging")
    args = parser.parse_args()
    lines = []
    for name in args.scenarios.split(","):
        with databases([args.db]) as urls:
            lines.append(f"{name:>8}: {scenario(urls[args.db], name, args.seconds)}")
    print(f"opscenter serve on a fresh demo ({args.db}), Prometheus away, for {args.seconds:.0f} s")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
