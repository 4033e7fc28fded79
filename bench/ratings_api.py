"""POST /api/v1/ratings under load, beside a bare endpoint inserting one row into the same database.

For SQLite (WAL file) and PostgreSQL (a scratch database), in one run:

- bare:    a bare Litestar endpoint on OpsCenter's own Database and house ``post`` that inserts one row
           (no auth, no validation, no audit): the ceiling of one write transaction per request;
- ratings: the real ``POST /api/v1/ratings`` (API key, validation, Idempotency-Key claimed and answered,
           contract-line check, rating period held, the rating, its audit event), each request a new
           (instance, month) under a new key;
- batch:   ``POST /api/v1/ratings/batch`` with 500 ratings, timed end to end, three times.

wrk drives the load (default 50 connections, 2 threads) and reports requests/s, p50 and p99. Goals:
ratings >= 0.5x bare, ratings p99 <= 100 ms, batch of 500 < 1 s.

    .venv/bin/python bench/ratings_api.py [--seconds 10] [--connections 50] [--pin] [--profile DIR]

``--pin`` runs the server on CPU 0 and wrk on CPU 1 (taskset). ``--profile DIR`` samples the ratings server
with py-spy during the measured run (``scripts/setup-venv dev,bench``) and prints where its time went. The seeding
(``seed``) and the scenarios (``rating_script``, ``bare_script``, ``time_batches``) are plain functions
for a shared harness to call.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litestar import Litestar  # noqa: E402
from litestar.di import NamedDependency, Provide  # noqa: E402
from sqlmodel import Field, Session, SQLModel  # noqa: E402

from bench.harness import provisioned_lines  # noqa: E402

INSTANCES = 500
LOAD_MONTHS = [f"{year}-{month:02d}" for year in range(2020, 2026) for month in range(1, 13)]  # 36,000 pairs
BATCH_MONTHS = ["2026-01", "2026-02", "2026-03"]  # one month of all 500 instances per batch


class BareRow(SQLModel, table=True):
    __tablename__ = "bench_bare_row"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    note: str = "x"


@dataclass(frozen=True)
class Seeded:
    department_key: str
    instance_ids: list[str]


def seed(url: str, *, instances: int = INSTANCES) -> Seeded:
    """Migrate; one department with ``instances`` service instances, each on its own line of one approved
    contract in force 2020-01-01..2026-12-31; the bare table. Written directly, in one transaction."""
    from migrations import MIGRATIONS
    from opscenter.db import Database
    from opscenter.identity.models import OrgKind, Role
    from opscenter.settings import Settings
    from tests.factories import identity, organization

    settings = Settings(database_url=url, log_level="WARNING")
    MIGRATIONS.upgrade(settings)
    database = Database(settings)
    BareRow.__table__.create(database.engine, checkfirst=True)  # type: ignore[attr-defined]
    department = identity(
        database, user_name="bench.dept", role=Role.DEPARTMENT, org_name="市卫生健康委员会", org_kind=OrgKind.DEPARTMENT
    )
    operator_id = organization(database, "数字政府运营中心", OrgKind.OPERATOR)
    with database.transaction(write=True) as session:
        placed = provisioned_lines(
            session,
            number="BENCH-001",
            supplier_id=operator_id,
            start=date(2020, 1, 1),
            end=date(2026, 12, 31),
            department_ids=[department.organization_id] * instances,
        )
        instance_ids = [str(instance.id) for instance in placed]
    database.dispose()
    return Seeded(department.key, instance_ids)


def bare_app(url: str) -> Litestar:
    """One write transaction per request inserting one row, on OpsCenter's Database and house ``post``."""
    from opscenter.db import Database
    from opscenter.settings import Settings
    from opscenter.web import post, provide_session

    def start(app: Litestar) -> None:
        app.state.db = Database(Settings(database_url=url, log_level="WARNING"))

    @post("/rows")
    def insert(session: NamedDependency[Session]) -> dict[str, str]:
        row = BareRow()
        session.add(row)
        session.flush()
        return {"id": str(row.id)}

    return Litestar(
        [insert], dependencies={"session": Provide(provide_session, sync_to_thread=False)}, on_startup=[start]
    )


def serve_variant(variant: str, url: str, port: int) -> None:
    import uvicorn

    if variant == "ratings":
        from opscenter.app import create_app, frozen
        from opscenter.settings import Settings

        app = frozen(create_app(Settings(database_url=url, log_level="WARNING")))  # as `opscenter serve` does
    else:
        app = bare_app(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@contextmanager
def server(variant: str, url: str, *, pin: bool) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", variant, "--url", url, "--port", str(port)]
    if pin:
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Server(base, process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


@contextmanager
def profiled(pid: int, output: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (raw collapsed stacks into ``output``)."""
    if output is None:
        yield
        return
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    sampler = subprocess.Popen(
        [spy, "record", "--format", "raw", "--rate", "250", "-o", str(output), "--pid", str(pid)]
    )
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


def rating_script(seeded: Seeded, months: list[str], *, offset: int) -> str:
    """wrk Lua: every request rates a new (instance, month) under a new Idempotency-Key, from pair ``offset`` on."""
    ids = ",".join(f'"{instance_id}"' for instance_id in seeded.instance_ids)
    month_list = ",".join(f'"{month}"' for month in months)
    return f"""
local ids = {{{ids}}}
local months = {{{month_list}}}
local prefix = "{uuid.uuid4().hex[:12]}"
local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
counter = 0
headers = {{}}
headers["Authorization"] = "Bearer {seeded.department_key}"
headers["Content-Type"] = "application/json"
request = function()
  local n = {offset} + counter * 2 + thread_id
  counter = counter + 1
  local month = months[math.floor(n / #ids) % #months + 1]
  local body = string.format('{{"service_instance_id":"%s","period":"%s","score":%d}}', ids[n % #ids + 1], month,
    60 + n % 40)
  headers["Idempotency-Key"] = prefix .. "-" .. n
  return wrk.format("POST", "/api/v1/ratings", headers, body)
end
"""


def bare_script() -> str:
    return 'request = function() return wrk.format("POST", "/rows", {}, "{}") end\n'


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(base: str, script: str, *, seconds: int, connections: int, pin: bool) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    # A generous timeout: a slow answer must count in p99, not vanish as a wrk timeout.
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        file.name,
        base,
    ]
    if pin:
        command = ["taskset", "-c", "1", *command]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(file.name)
    percentiles = {
        int(match.group(1)): float(match.group(2)) * _UNITS[match.group(3)]
        for match in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    errors = "; ".join(line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket errors" in line)
    if rps is None or total is None or len(percentiles) != 2:
        raise RuntimeError(output)
    return Load(float(rps.group(1)), percentiles[50], percentiles[99], int(total.group(1)), errors)


def time_batches(base: str, seeded: Seeded, months: list[str]) -> list[float]:
    """Seconds per batch of one month of every instance (500 ratings), end to end over HTTP."""
    timings = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {seeded.department_key}"}, timeout=60) as http:
        for month in months:
            items = [
                {"service_instance_id": instance_id, "period": month, "score": 60 + n % 40}
                for n, instance_id in enumerate(seeded.instance_ids)
            ]
            started = time.perf_counter()
            answer = http.post("/api/v1/ratings/batch", json={"items": items}, headers={"Idempotency-Key": month})
            timings.append(time.perf_counter() - started)
            if answer.status_code != 201:
                raise RuntimeError(f"batch {month}: {answer.status_code} {answer.text[:500]}")
    return timings


def summarize_profile(raw: Path, *, top: int = 22) -> None:
    """Where the server's sampled time went: inclusive share of the functions that matter, then self time."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        samples += count
        frames = [_frame(frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    print(f"   profile: {samples} samples of busy threads ({raw})")
    print("   inclusive:")
    for frame, count in inclusive.most_common(200)[:top]:
        print(f"     {100 * count / samples:5.1f}%  {frame}")
    print("   self:")
    for frame, count in own.most_common(12):
        print(f"     {100 * count / samples:5.1f}%  {frame}")


def _frame(frame: str) -> str:
    # py-spy raw frames: "function (path/to/module.py:line)"
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if match is None:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", "/work/wt/ratings/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{function}"


@contextmanager
def databases() -> Iterator[dict[str, str]]:
    from tests.support import postgres_database

    folder = tempfile.mkdtemp(prefix="opscenter-bench-ratings-")
    try:
        with postgres_database("opscenter_bench_ratings") as pg_url:
            yield {"sqlite": f"sqlite:///{folder}/bench.db", "postgresql": pg_url}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, wrk on CPU 1 (taskset)")
    parser.add_argument("--profile", type=Path, help="run the ratings server under py-spy, raw stacks into DIR")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--serve")
    parser.add_argument("--url")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve_variant(args.serve, args.url, args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")

    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds}s --timeout 30s --latency; {os.cpu_count()} cores"
        f"{' (server on CPU 0, wrk on CPU 1)' if args.pin else ''}; load average {os.getloadavg()[0]:.1f}"
    )
    with databases() as urls:
        for name, url in urls.items():
            if args.only and name != args.only:
                continue
            seeded = seed(url)
            warm = max(2, args.seconds // 5)
            with server("bare", url, pin=args.pin) as bare_server:
                base = bare_server.base
                run_wrk(base, bare_script(), seconds=warm, connections=args.connections, pin=args.pin)
                bare = run_wrk(base, bare_script(), seconds=args.seconds, connections=args.connections, pin=args.pin)
            profile = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile / f"ratings-{name}.txt"
            with server("ratings", url, pin=args.pin) as ratings_server:
                base = ratings_server.base
                warmup = rating_script(seeded, LOAD_MONTHS, offset=len(LOAD_MONTHS) * INSTANCES // 2)
                run_wrk(base, warmup, seconds=warm, connections=args.connections, pin=args.pin)
                script = rating_script(seeded, LOAD_MONTHS, offset=0)
                with profiled(ratings_server.pid, profile):
                    ratings = run_wrk(base, script, seconds=args.seconds, connections=args.connections, pin=args.pin)
                batches = time_batches(base, seeded, BATCH_MONTHS)
            ratio = ratings.requests_per_second / bare.requests_per_second
            print(
                f"{name:>10}: bare insert     {bare.requests_per_second:7.0f} req/s  p50 {bare.p50_ms:6.1f} ms"
                f"  p99 {bare.p99_ms:6.1f} ms  {bare.errors}"
            )
            print(
                f"{'':>10}  POST /ratings   {ratings.requests_per_second:7.0f} req/s  p50 {ratings.p50_ms:6.1f} ms"
                f"  p99 {ratings.p99_ms:6.1f} ms  {ratings.errors}"
            )
            print(
                f"{'':>10}  ratio {ratio:.2f}x (goal >= 0.50) | p99 {ratings.p99_ms:.0f} ms (goal <= 100)"
                f" | batch of 500: {', '.join(f'{t:.2f}' for t in batches)} s"
                f" (median {statistics.median(batches):.2f}, goal < 1)"
            )
            if profile is not None:
                summarize_profile(profile)


if __name__ == "__main__":
    main()
