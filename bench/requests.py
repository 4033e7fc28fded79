"""The house's cost per request: an authenticated read and an audited write, beside their baselines.

Per database (SQLite, PostgreSQL), one run, 50 connections by default, server pinned to one core and
wrk to the other:

- ``GET /health`` (no key, no database): the floor every request pays;
- ``GET /api/v1/me`` with a department's API key, against ``/health`` (goal ≥ 0.5×);
- ``GET /api/v1/services?limit=50`` (a handful of rows), against ``/health``;
- ``POST /api/v1/purchase-requests`` (one item, validated, audited), against a bare Litestar endpoint
  inserting one row into the same database (goal ≥ 0.5×, p99 ≤ 100 ms);
- the house's floor for that write (``bench/floor.py``: the same authentication, validation, worker thread
  and session, and no SQL), against the same bare insert: what is left for the write's own database work.

On PostgreSQL it also samples ``pg_stat_activity`` during the write load and prints what the server's
connections were doing: running, waiting for a lock (the audit chain head), or waiting for the app.

    .venv/bin/python bench/requests.py [--db sqlite|postgresql|both] [--seconds 10] [--connections 50]
        [--profile DIR]   # py-spy samples of each OpsCenter load, with the top frames printed
"""

import argparse
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import FLOOR_PATH  # noqa: E402
from bench.harness import (  # noqa: E402
    BARE_INSERT,
    HEALTH,
    Figure,
    Load,
    bare_server,
    check,
    databases,
    drive,
    floor_server,
    identity,
    opscenter_server,
    print_figures,
    profiled,
    require_tools,
    top_frames,
)


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    _, department_key = identity(
        url, user_name="bench.dept", role="department", org_name="市卫生健康委员会", org_kind="department"
    )
    _, operator_key = identity(
        url, user_name="bench.ops", role="operator", org_name="数字政府运营中心", org_kind="operator"
    )
    figures: list[Figure] = []
    with opscenter_server(url) as server:
        service_id = _catalog_service(server.base_url, operator_key)
        as_department = {"Authorization": f"Bearer {department_key}", "Content-Type": "application/json"}
        item = {
            "service_id": service_id,
            "quantity": 2,
            "start_date": "2027-01-01",
            "end_date": "2027-12-31",
            "justification": "bench",
        }
        body = json.dumps({"title": "bench", "items": [item]})
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
        for load in loads:
            check(server, load, expect=201 if load.method == "POST" else 200)
            slug = load.path.strip("/").split("?")[0].replace("/", "_")
            out = args.profile / f"{db_name}-{load.method}-{slug}.txt" if args.profile else None
            sampler = _PgActivity(url) if db_name == "postgresql" and load.method == "POST" else None
            with profiled(server, out):
                if sampler:
                    sampler.start()
                figures.append(drive(server, load, seconds=args.seconds, connections=args.connections))
                if sampler:
                    sampler.stop()
                    print(f"   pg_stat_activity during {load.name}: {sampler.summary()}")
            if out is not None:
                _print_profile(load.name, out)
    with floor_server(url) as floor:
        floor_load = Load(
            "house floor: same POST, no SQL", FLOOR_PATH, method="POST", headers=as_department, body=body,
            baseline=BARE_INSERT.name,
        )  # fmt: skip
        check(floor, floor_load, expect=201)
        figures.append(drive(floor, floor_load, seconds=args.seconds, connections=args.connections))
    with bare_server(url) as bare:
        check(bare, BARE_INSERT, expect=201)
        figures.append(drive(bare, BARE_INSERT, seconds=args.seconds, connections=args.connections))
    print_figures(f"{db_name}: cost per request, {args.connections} connections, {args.seconds} s each", figures)


def _catalog_service(base_url: str, operator_key: str) -> str:
    import httpx

    response = httpx.post(
        base_url + "/api/v1/services",
        json={"code": "BENCH-ECS", "name": "云服务器", "category": "compute", "unit": "台/月", "list_price": "1500.00"},
        headers={"Authorization": f"Bearer {operator_key}"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _print_profile(name: str, out: Path) -> None:
    print(f"   profile of {name} ({out}): inclusive share of samples, top frames")
    for frame, share in top_frames(out, limit=40):
        print(f"     {share:6.1%}  {frame}")


class _PgActivity:
    """Samples what OpsCenter's PostgreSQL connections are doing, every 5 ms, while a load runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.states: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self._stop.is_set():
                rows = connection.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE application_name LIKE 'opscenter-%' AND pid <> pg_backend_pid()"
                ).fetchall()
                for state, wait_type, wait_event in rows:
                    if state == "active":
                        key = f"waiting on {wait_type}:{wait_event}" if wait_type == "Lock" else "running"
                    else:
                        key = str(state)
                    self.states[key] += 1
                time.sleep(0.005)

    def summary(self) -> str:
        total = sum(self.states.values()) or 1
        return ", ".join(f"{state} {count / total:.0%}" for state, count in self.states.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--profile", type=Path, default=None, help="write py-spy samples here and print top frames")
    args = parser.parse_args()
    require_tools()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    which = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with databases(which) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
