"""The benchmark harness every domain reuses: databases, a pinned server, wrk, and figures beside baselines.

A benchmark script (``bench/<name>.py``) does four things, each one call here:

1. ``with databases(args.db) as urls:`` — a fresh SQLite file and a scratch PostgreSQL database (created
   and dropped here), each migrated to head.
2. seed what it needs: ``identity(url, ...)`` for a key, ``bulk_insert(engine, table, rows)`` for volume.
3. ``with opscenter_server(url) as server:`` (the real ``opscenter serve``, pinned to ``SERVER_CPU``),
   ``figure = drive(server, Load(...), seconds, connections)`` (wrk, pinned to ``WRK_CPU``). The
   baselines run in the same run: ``HEALTH`` against the same server, and ``bare_server(url)`` with
   ``BARE_INSERT`` (a bare Litestar endpoint that inserts one row into the same database).
4. ``print_figures(title, figures)``: throughput, p50, p99, errors and server RSS, each beside its
   baseline with the ratio.

Figures from a shared machine are noisy; say so when you quote them, and give the command.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine, Table
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
WRK_CPU = os.environ.get("BENCH_WRK_CPU", "1")
POSTGRES_ADMIN_URL = os.environ.get("OPSCENTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent


# ---- what wrk sends, and what comes back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One request shape for wrk. ``baseline`` names the figure this one is compared against.

    A ``body`` or header value containing ``{n}`` gets a value unique to each request there (for fields that
    must be unique, an ``Idempotency-Key``), unique across runs too.
    """

    name: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    baseline: str | None = None


@dataclass(frozen=True)
class Figure:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    rss_mib: float  # the server's resident memory after the run
    cpu_ms: float  # the server's CPU time (user + system) per answered request: steadier than req/s on a busy machine
    baseline: str | None = None


HEALTH = Load("GET /health", "/health")
BARE_INSERT = Load("bare Litestar insert", "/rows", method="POST", body="{}")

_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
-- "{{n}}" in the body or in a header value becomes a value unique to each request (an Idempotency-Key, a
-- number that must be unique); the prefix is new in every run, so no run replays an earlier one's keys.
local prefix, counter = {prefix}, 0
local templated = {{}}
for name, value in pairs(wrk.headers) do
  if string.find(value, "{{n}}", 1, true) then templated[name] = value end
end
local body_template = wrk.body and string.find(wrk.body, "{{n}}", 1, true) and wrk.body or nil
if body_template or next(templated) ~= nil then
  request = function()
    counter = counter + 1
    local n = prefix .. "-" .. counter
    for name, value in pairs(templated) do wrk.headers[name] = (string.gsub(value, "{{n}}", n)) end
    return wrk.format(nil, nil, nil, body_template and (string.gsub(body_template, "{{n}}", n)) or nil)
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FIGURES {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "socket": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Lua string literal here


def drive(server: "Server", load: Load, *, seconds: int, connections: int) -> Figure:
    """Load ``server`` with wrk (one thread, pinned to ``WRK_CPU``) and return what it measured."""
    headers = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in load.headers.items())
    script = _WRK_SCRIPT.format(
        method=_lua(load.method),
        body=_lua(load.body) if load.body else "nil",
        headers=headers,
        prefix=_lua(uuid.uuid4().hex[:12]),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    cpu_before = server.cpu_seconds()
    try:
        command = ["taskset", "-c", WRK_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        result = subprocess.run(
            [*command, "-s", handle.name, server.base_url + load.path], capture_output=True, text=True, check=True
        )
    finally:
        os.unlink(handle.name)
    line = next((raw for raw in result.stdout.splitlines() if raw.startswith("FIGURES ")), None)
    if line is None:
        raise RuntimeError(f"wrk said nothing usable:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(line.removeprefix("FIGURES "))
    cpu = server.cpu_seconds() - cpu_before
    return Figure(
        name=load.name,
        requests_per_second=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["non2xx"] + raw["socket"],
        rss_mib=server.rss_mib(),
        cpu_ms=cpu * 1000 / max(raw["requests"], 1),
        baseline=load.baseline,
    )


def check(server: "Server", load: Load, expect: int = 200) -> httpx.Response:
    """Send ``load`` once and insist on ``expect``: a benchmark of error answers measures nothing."""
    response = httpx.request(
        load.method, server.base_url + load.path, headers=dict(load.headers), content=load.body, timeout=30
    )
    if response.status_code != expect:
        raise RuntimeError(f"{load.name}: expected {expect}, got {response.status_code}: {response.text[:500]}")
    return response


def print_figures(title: str, figures: list[Figure]) -> None:
    """A table: each figure, its baseline's figure and the ratio of their throughputs."""
    by_name = {figure.name: figure for figure in figures}
    print(f"\n== {title}")
    header = f"{'request':<44} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'errors':>6} {'RSS MiB':>7}"
    print(header + "   vs baseline")
    for figure in figures:
        line = (
            f"{figure.name:<44} {figure.requests_per_second:7.0f} {figure.p50_ms:8.2f} {figure.p99_ms:8.2f}"
            f" {figure.cpu_ms:7.3f} {figure.errors:6d} {figure.rss_mib:7.1f}"
        )
        base = by_name.get(figure.baseline or "")
        if base is not None and base.requests_per_second > 0:
            line += (
                f"   {figure.requests_per_second / base.requests_per_second:5.2f}x of {base.name}"
                f" ({base.requests_per_second:.0f} req/s, p99 {base.p99_ms:.2f} ms, CPU {base.cpu_ms:.3f} ms)"
            )
        print(line, flush=True)


# ---- servers ----------------------------------------------------------------------------------------------------


class Server:
    """A server process pinned to ``SERVER_CPU``, on a free loopback port, stopped on exit."""

    def __init__(self, command: list[str], env: Mapping[str, str], ready_path: str) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._command = ["taskset", "-c", SERVER_CPU, *command, "--port", str(self.port)]
        self._env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        self._ready_path = ready_path
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server, closed in __exit__
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(self._command, env=self._env, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(self.base_url + self._ready_path, timeout=2).status_code < 500:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.output()}")

    def __exit__(self, *_: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_mib(self) -> float:
        """Resident memory of the server process now (VmRSS), MiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kib / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]


def opscenter_server(url: str, **settings: str) -> Server:
    """The real thing: ``opscenter serve --no-scheduler`` with its default settings unless overridden."""
    env = {"OPSCENTER_DATABASE_URL": url, **{f"OPSCENTER_{k.upper()}": v for k, v in settings.items()}}
    return Server([str(BIN / "opscenter"), "serve", "--no-scheduler"], env, "/health")


def floor_server(url: str) -> Server:
    """OpsCenter plus the house floor of a write: an audited POST without its SQL (``bench/floor.py``)."""
    return Server([sys.executable, "-m", "bench.floor", "--url", url], {}, "/health")


def bare_server(url: str) -> Server:
    """The baseline: a bare Litestar endpoint inserting one row per request (``bench/bare.py``)."""
    return Server([sys.executable, "-m", "bench.bare", "--url", url], {}, "/health")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- databases and data -----------------------------------------------------------------------------------------


@contextmanager
def databases(which: Iterable[str] = ("sqlite", "postgresql")) -> Iterator[dict[str, str]]:
    """Fresh, migrated databases by name: a SQLite file (WAL) and a scratch PostgreSQL database, dropped after."""
    which = list(which)
    folder = tempfile.mkdtemp(prefix="opscenter-bench-")
    name = f"opscenter_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    admin_conninfo = admin.render_as_string(hide_password=False)
    urls: dict[str, str] = {}
    try:
        if "sqlite" in which:
            urls["sqlite"] = f"sqlite:///{folder}/bench.db"
        if "postgresql" in which:
            with psycopg.connect(admin_conninfo, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            urls["postgresql"] = admin.set(database=name).render_as_string(hide_password=False)
        for url in urls.values():
            migrate(url)
        yield urls
    finally:
        if "postgresql" in urls:
            with psycopg.connect(admin_conninfo, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


def settings_for(url: str) -> Any:
    from opscenter.settings import LogLevel, Settings

    return Settings(database_url=url, log_level=LogLevel.WARNING)


def migrate(url: str) -> None:
    from migrations import MIGRATIONS

    MIGRATIONS.upgrade(settings_for(url))


def identity(url: str, *, user_name: str, role: str, org_name: str, org_kind: str) -> tuple[uuid.UUID, str]:
    """A user with an API key, created through the real services; returns (organization id, key)."""
    from opscenter.db import Database
    from opscenter.identity.models import OrgKind, Role
    from tests.factories import identity as make_identity

    database = Database(settings_for(url))
    try:
        who = make_identity(
            database, user_name=user_name, role=Role(role), org_name=org_name, org_kind=OrgKind(org_kind)
        )
    finally:
        database.dispose()
    return who.organization_id, who.key


def uuid7_at(millis: int) -> uuid.UUID:
    """A UUIDv7 for the instant ``millis`` (ms since the epoch): seeded rows sort as if made over time."""
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | random.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


def bulk_insert(engine: Engine, table: Table, rows: Iterable[dict[str, Any]], *, batch: int = 5000) -> int:
    """Insert many rows fast (executemany per batch, one transaction per batch); returns how many."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            count += _flush(engine, table, chunk)
            chunk = []
    if chunk:
        count += _flush(engine, table, chunk)
    return count


def _flush(engine: Engine, table: Table, chunk: list[dict[str, Any]]) -> int:
    with engine.begin() as connection:
        connection.execute(table.insert(), chunk)
    return len(chunk)


def require_tools() -> None:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"the benchmarks need {tool}: apt-get install {'wrk' if tool == 'wrk' else 'util-linux'}")


# ---- profiling --------------------------------------------------------------------------------------------------


@contextmanager
def profiled(server: Server, out: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (collapsed stacks in ``out``); nothing if ``out`` is None."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    # --gil: only the thread holding the GIL, so threads waiting for it do not count as work
    command = [spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", "200", "--gil", "--nonblocking"]
    process = subprocess.Popen([*command, "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def top_frames(collapsed: Path, *, limit: int = 25, own: bool = False) -> list[tuple[str, float]]:
    """Share of samples in which each function appears (inclusive), or is the innermost frame (``own``)."""
    counts: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue  # py-spy ends the file with an empty line
        samples = int(number)
        total += samples
        frames = stack.split(";")
        names = {frames[-1]} if own else set(frames)
        for name in names:
            counts[name] = counts.get(name, 0) + samples
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:limit]
    return [(name, count / max(total, 1)) for name, count in ranked]


def provisioned_lines(
    session: Any, *, number: str, supplier_id: uuid.UUID, start: Any, end: Any, department_ids: Iterable[uuid.UUID]
) -> list[Any]:
    """An approved contract for a 1500.00/month service over [start, end] with one line per department id (in
    order) and a service instance for each line, as the API would leave them; flushed. Returns the instances."""
    from contracts.agreements.models import (
        Contract,
        ContractLine,
        ContractStatus,
        ContractVersion,
        ProcurementMethod,
        VersionStatus,
    )
    from contracts.catalog.models import CatalogService, ServiceCategory
    from contracts.instances.models import ServiceInstance

    service = CatalogService(
        code=f"ECS-{number}", name="云服务器", category=ServiceCategory.COMPUTE, unit="台/月", list_price_fen=150000
    )
    contract = Contract(
        number=number,
        title="压测合同",
        procurement_method=ProcurementMethod.PUBLIC_TENDER,
        signed_date=start,
        start_date=start,
        supplier_id=supplier_id,
        status=ContractStatus.APPROVED,
        current_version=1,
    )
    version = ContractVersion(
        contract_id=contract.id,
        number=1,
        status=VersionStatus.APPROVED,
        effective_date=start,
        end_date=end,
        ceiling_fen=10**15,
        terms={},  # the standard terms
    )
    session.add_all([service, contract, version])
    session.flush()
    rows: list[Any] = []
    instances: list[Any] = []
    for line_no, department_id in enumerate(department_ids, start=1):
        rows.append(
            ContractLine(
                contract_version_id=version.id,
                line_no=line_no,
                service_id=service.id,
                department_id=department_id,
                quantity=1,
                unit_price_fen=150000,
                start_date=start,
                end_date=end,
                total_value_fen=ContractLine.value_fen(1, 150000, start, end),
            )
        )
        instances.append(
            ServiceInstance(
                name=f"实例{line_no}",
                label_matchers={"instance": f"i{line_no}"},
                contract_id=contract.id,
                line_no=line_no,
                service_id=service.id,
                department_id=department_id,
            )
        )
    session.add_all(rows + instances)
    session.flush()
    return instances
