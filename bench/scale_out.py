"""Audited writes with 1, 2 and 4 API processes on PostgreSQL: does throughput grow until the database is the limit?

For each process count, ``opscenter serve --workers N --no-scheduler`` on a scratch PostgreSQL database, loaded by
wrk for each scenario (every request an authenticated, validated insert with its audit event on the hash chain).
While wrk runs, a sampler reads ``pg_stat_activity`` every 50 ms and the CPU time of the database's backends
(``/proc/<pid>/stat``), so each line says how busy the database itself was:

- ``db cpu``: CPU seconds of the backends serving the bench database per wall second (1.00 = one core busy);
- ``aas``: average active sessions (backends running a statement or waiting inside one), and the top wait;
- ``host``: how busy the whole machine was (wrk and the API processes share it with the database).

Throughput grows with processes while the API processes are the limit; it stops growing when the database is
(``aas`` near the pool, waits on the audit chain's row lock, or ``db cpu`` taking what the host has left).

    .venv/bin/python bench/scale_out.py [--seconds 10] [--connections 32] [--processes 1,2,4] [--scenario NAME]

A scenario is one ``Scenario`` in ``SCENARIOS``: a method, a path, whose key signs it, and a Lua expression for the
body (``n`` counts requests per wrk thread, ``tag`` is unique per run). Ratings and ticket actions join when those
domains land.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Fixture:
    """What the scenarios' set-up made: keys by role, ids by name."""

    base_url: str
    keys: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    role: str  # whose key signs the requests
    body: str  # a Lua expression; ``n`` (per-thread counter), ``tag`` and every id of the fixture are in scope
    expect: int = 201


def _purchase_request_body() -> str:
    item = (
        '{"service_id": "%s", "quantity": 1, "start_date": "2027-01-01", "end_date": "2027-12-31", '
        '"justification": "压测"}'
    )
    return f'string.format(\'{{"title": "压测-%s-%d-%d", "items": [{item}]}}\', tag, thread_id, n, service_id)'


SCENARIOS = [
    Scenario(
        name="purchase-request",
        method="POST",
        path="/api/v1/purchase-requests",
        role="department",
        body=_purchase_request_body(),
    ),
]


def set_up(base_url: str, keys: dict[str, str]) -> Fixture:
    """Data every scenario may use, made through the API: one catalog service."""
    service = httpx.post(
        f"{base_url}/api/v1/services",
        headers={"Authorization": f"Bearer {keys['operator']}"},
        json={"code": "BENCH-ECS", "name": "压测云服务器", "category": "compute", "unit": "台/月", "list_price": "100"},
        timeout=30,
    )
    service.raise_for_status()
    return Fixture(base_url, keys, {"service_id": service.json()["id"]})


WRK_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
n = 0
request = function()
  n = n + 1
  return wrk.format(method, path, headers, {body})
end
"""


def run_wrk(fixture: Fixture, scenario: Scenario, seconds: int, connections: int) -> tuple[float, str]:
    """Requests/s, and wrk's complaints (non-2xx, socket errors) if any."""
    lines = [
        f'method = "{scenario.method}"',
        f'path = "{scenario.path}"',
        f'tag = "{uuid.uuid4().hex[:8]}"',
        "headers = {}",
        f'headers["Authorization"] = "Bearer {fixture.keys[scenario.role]}"',
        'headers["Content-Type"] = "application/json"',
        *(f'{name} = "{value}"' for name, value in fixture.ids.items()),
        WRK_SCRIPT.replace("{body}", scenario.body),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines))
    try:
        result = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout=30s", "-s", script.name, fixture.base_url],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    rate = next(float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("Requests/sec:"))
    problems = "; ".join(
        line.strip() for line in result.stdout.splitlines() if "Non-2xx" in line or "Socket errors" in line
    )
    return rate, problems


class DatabaseSampler:
    """Samples ``pg_stat_activity`` of one database, and its backends' CPU time, in a thread."""

    def __init__(self, admin_conninfo: str, database: str, interval: float = 0.05) -> None:
        self.admin_conninfo, self.database, self.interval = admin_conninfo, database, interval
        self.samples = 0
        self.active = 0
        self.waits: Counter[str] = Counter()
        self.cpu_start: dict[int, float] = {}
        self.cpu_end: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._host_start = _host_busy()

    def __enter__(self) -> "DatabaseSampler":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.monotonic() - self._started
        self.host = _host_share(self._host_start, _host_busy())

    def _run(self) -> None:
        with psycopg.connect(self.admin_conninfo, autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                rows = connection.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                self.samples += 1
                for pid, state, wait_type, wait_event in rows:
                    cpu = _cpu_seconds(pid)
                    if cpu is not None:
                        self.cpu_start.setdefault(pid, cpu)
                        self.cpu_end[pid] = cpu
                    if state == "active":
                        self.active += 1
                        self.waits[f"{wait_type}:{wait_event}" if wait_type else "CPU"] += 1

    @property
    def db_cores(self) -> float:
        return sum(self.cpu_end[pid] - self.cpu_start[pid] for pid in self.cpu_end) / self.wall

    @property
    def average_active(self) -> float:
        return self.active / max(self.samples, 1)

    def top_waits(self, count: int = 2) -> str:
        total = max(sum(self.waits.values()), 1)
        return ", ".join(f"{name} {100 * seen / total:.0f}%" for name, seen in self.waits.most_common(count))


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # not on this machine (a remote database), or gone
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _host_busy() -> tuple[int, int]:
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _host_share(start: tuple[int, int], end: tuple[int, int]) -> float:
    return (end[0] - start[0]) / max(end[1] - start[1], 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(url: str, processes: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "OPSCENTER_DATABASE_URL": url,
        "OPSCENTER_LOG_LEVEL": "WARNING",
        "OPSCENTER_DB_POOL_SIZE": "8",  # up to 16 connections a process: 64 at 4 processes, under max_connections
    }
    command = [sys.executable, "-m", "opscenter.cli", "serve", "--workers", str(processes), "--no-scheduler"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"serve --workers {processes} did not start")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare(url: str) -> dict[str, str]:
    """Migrate; create an operator and a department user; their keys by role."""
    from migrations import MIGRATIONS
    from opscenter.db import Database
    from opscenter.identity.models import OrgKind, Role
    from opscenter.settings import LogLevel, Settings
    from tests.factories import identity

    settings = Settings(database_url=url, log_level=LogLevel.WARNING)
    MIGRATIONS.upgrade(settings)
    database = Database(settings)
    operator = identity(
        database, user_name="bench.operator", role=Role.OPERATOR, org_name="数字政府运营中心", org_kind=OrgKind.OPERATOR
    )
    department = identity(
        database, user_name="bench.dept", role=Role.DEPARTMENT, org_name="卫生健康委员会", org_kind=OrgKind.DEPARTMENT
    )
    database.dispose()
    return {"operator": operator.key, "department": department.key}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", default="1,2,4", help="API process counts, comma-separated")
    parser.add_argument("--scenario", action="append", help="only these scenarios (default: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    counts = [int(count) for count in args.processes.split(",")]

    from sqlalchemy.engine import make_url

    from tests.support import postgres_admin_url, postgres_database

    admin = make_url(postgres_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s per line; {os.cpu_count()} cores on this host")
    print(f"command: {' '.join(sys.argv)}")
    with postgres_database("opscenter_bench_scale") as url:
        keys = prepare(url)
        database = make_url(url).database or ""
        fixture: Fixture | None = None
        baseline: dict[str, float] = {}
        for processes in counts:
            with serving(url, processes) as base:
                fixture = set_up(base, keys) if fixture is None else Fixture(base, keys, fixture.ids)
                for scenario in scenarios:
                    run_wrk(fixture, scenario, args.warmup, args.connections)
                    with DatabaseSampler(admin, database) as sampler:
                        rate, problems = run_wrk(fixture, scenario, args.seconds, args.connections)
                    baseline.setdefault(scenario.name, rate)
                    print(
                        f"{scenario.name:>18} | {processes} process{'es' if processes > 1 else '  '} "
                        f"| {rate:7.0f} req/s ({rate / baseline[scenario.name]:.2f}x)"
                        f" | db cpu {sampler.db_cores:.2f} cores | aas {sampler.average_active:4.1f}"
                        f" ({sampler.top_waits()}) | host {100 * sampler.host:.0f}% busy"
                        + (f" | wrk: {problems}" if problems else ""),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
