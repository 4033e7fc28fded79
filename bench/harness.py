"""The harness every benchmark runs on: its command line, databases, servers, wrk, and figures beside baselines.

A benchmark is a module run as ``python -m bench.NAME`` from the checkout. It does four things, each a call here:

1. ``parser = arguments(__doc__, databases=...)``, its own sizes added, ``args = parser.parse_args()``;
2. ``with databases(chosen(args)) as urls:`` — a fresh SQLite file and a fresh PostgreSQL database (created on
   127.0.0.1:5432 or ``OPSCENTER_TEST_POSTGRES_URL`` and dropped afterwards), each migrated to head;
3. seed through the domains (``bench/seed.py``), then ``with opscenter_server(url, pin=args.pin) as server:``
   (the real ``opscenter serve``, a uvicorn process on a free loopback port) and
   ``figure = drive(server, Load(...), options(args))`` (wrk). The baselines run in the same run: ``HEALTH``
   against the same server, ``bare_server(url)`` with ``BARE_INSERT`` (a bare endpoint inserting one row);
4. ``print_figures(title, figures)`` (throughput, p50, p99, CPU per request, errors, RSS) or
   ``print_timings(title, timings)`` (seconds), each figure beside its baseline with the ratio (``1.23x``).

``--pin`` pins the server to CPU ``BENCH_SERVER_CPU`` (0) and wrk to ``BENCH_WRK_CPU`` (1). ``--requests N`` sends N
requests per load from the benchmark itself instead of wrk and fails on any error answer: a check that the benchmark
runs (tests/bench/test_smoke.py), not a measurement. Figures
from a shared machine are noisy: compare ratios and CPU per request, and quote the command that made them.
"""

import argparse
import json
import math
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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
WRK_CPU = os.environ.get("BENCH_WRK_CPU", "1")
BIN = Path(sys.executable).parent
BOTH = ("sqlite", "postgresql")


# ---- the command line -----------------------------------------------------------------------------------------


def arguments(
    doc: str | None,
    *,
    databases: Sequence[str] = BOTH,
    load: bool = False,
    seconds: float = 10,
    connections: int = 50,
    pin: bool = True,
) -> argparse.ArgumentParser:
    """The options every benchmark shares: ``--db`` (when it runs on more than one database) and, for those that
    load a server with wrk, ``--seconds``, ``--connections``, ``--requests``, ``--pin`` and ``--profile``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if len(databases) > 1:
        parser.add_argument("--db", choices=[*databases, "both"], default="both")
    if load:
        parser.add_argument("--seconds", type=int, default=seconds, help="wrk's duration for each load")
        parser.add_argument("--connections", type=int, default=connections)
        parser.add_argument(
            "--requests",
            type=int,
            default=0,
            help="instead of wrk, send N requests per load and fail on any error: a quick check, not a measurement",
        )
        parser.add_argument("--profile", type=Path, default=None, help="sample the server with py-spy into DIR")
    if pin:
        parser.add_argument("--pin", action="store_true", help="server on CPU $BENCH_SERVER_CPU, wrk on $BENCH_WRK_CPU")
    return parser


def chosen(args: argparse.Namespace, databases: Sequence[str] = BOTH) -> list[str]:
    """The databases ``--db`` names, in order."""
    which = getattr(args, "db", databases[0])
    return list(databases) if which == "both" else [which]


@dataclass(frozen=True)
class Options:
    """How each wrk load runs."""

    seconds: int = 10
    connections: int = 50
    requests: int = 0  # > 0: stop after this many answers
    pin: bool = False


def each(run: Options) -> str:
    """How long each load ran, for a table's title."""
    return f"{run.requests} requests each (a check, not a measurement)" if run.requests else f"{run.seconds} s each"


def options(args: argparse.Namespace, **overrides: Any) -> Options:
    values = {
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": args.requests,
        "pin": getattr(args, "pin", False),
        **overrides,
    }
    return Options(**values)


# ---- what wrk sends, and what comes back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One request shape for wrk. ``baseline`` names the figure this one is compared against.

    A ``body`` or header value containing ``{n}`` gets a value unique to each request there (for fields that
    must be unique, an ``Idempotency-Key``), unique across runs too. ``bodies``, when given, are sent in turn, one
    per request (the last one again if the run outlasts them): for bodies that must differ in their content.
    """

    name: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    baseline: str | None = None
    bodies: Sequence[str] = ()


@dataclass(frozen=True)
class Figure:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    rss_mib: float  # the server's resident memory after the run (all its processes)
    cpu_ms: float  # the server's CPU time (user + system) per answered request: steadier than req/s on a busy machine
    requests: int = 0
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
local bodies = {{{bodies}}}
local body_template = wrk.body and string.find(wrk.body, "{{n}}", 1, true) and wrk.body or nil
if body_template or #bodies > 0 or next(templated) ~= nil then
  request = function()
    counter = counter + 1
    local n = prefix .. "-" .. counter
    for name, value in pairs(templated) do wrk.headers[name] = (string.gsub(value, "{{n}}", n)) end
    local content = nil
    if #bodies > 0 then content = bodies[math.min(counter, #bodies)]
    elseif body_template then content = (string.gsub(body_template, "{{n}}", n)) end
    return wrk.format(nil, nil, nil, content)
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


def drive(server: "Server", load: Load, run: Options, *, connections: int | None = None) -> Figure:
    """Load ``server`` with wrk (one thread; on ``WRK_CPU`` when pinned) and return what it measured. With
    ``run.requests``, send that many requests from this process instead and fail on any error answer: a check
    that the load works, in a fraction of wrk's shortest run (a second)."""
    if run.requests > 0:
        return _check_load(server, load, run.requests, connections or run.connections)
    headers = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in load.headers.items())
    script = _WRK_SCRIPT.format(
        method=_lua(load.method),
        body=_lua(load.body) if load.body else "nil",
        headers=headers,
        prefix=_lua(uuid.uuid4().hex[:12]),
        bodies=", ".join(_lua(body) for body in load.bodies),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    cpu_before = server.cpu_seconds()
    seconds = max(run.seconds, 1)
    try:
        command = [*_pinned(run.pin, WRK_CPU), "wrk", "-t1", f"-c{connections or run.connections}", f"-d{seconds}s"]
        result = subprocess.run(
            [*command, "--timeout", "30s", "-s", handle.name, server.base_url + load.path],
            capture_output=True,
            text=True,
            check=True,
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
        requests_per_second=raw["requests"] / max(raw["duration_us"] / 1e6, 1e-6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["non2xx"] + raw["socket"],
        rss_mib=server.rss_mib(),
        cpu_ms=cpu * 1000 / max(raw["requests"], 1),
        requests=raw["requests"],
        baseline=load.baseline,
    )


def _check_load(server: "Server", load: Load, requests: int, connections: int) -> Figure:
    """``requests`` requests of ``load`` over ``connections`` concurrent clients; any error answer raises."""
    prefix = uuid.uuid4().hex[:12]
    latencies: list[float] = []
    cpu_before = server.cpu_seconds()

    def one(counter: int, client: httpx.Client) -> None:
        n = f"{prefix}-{counter}"
        headers = {name: value.replace("{n}", n) for name, value in load.headers.items()}
        if load.bodies:
            content: str | None = load.bodies[min(counter, len(load.bodies)) - 1]
        else:
            content = load.body.replace("{n}", n) if load.body else None
        began = time.perf_counter()
        response = client.request(load.method, load.path, headers=headers, content=content)
        latencies.append(time.perf_counter() - began)
        if response.status_code >= 400:
            raise RuntimeError(f"{load.name}: {response.status_code} {response.text[:500]}")

    def worker(first: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            for counter in range(first, requests + 1, connections):
                one(counter, client)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for done in [pool.submit(worker, first) for first in range(1, min(connections, requests) + 1)]:
            done.result()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Figure(
        name=load.name,
        requests_per_second=len(latencies) / elapsed,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))],
        errors=0,
        rss_mib=server.rss_mib(),
        cpu_ms=(server.cpu_seconds() - cpu_before) * 1000 / len(latencies),
        requests=len(latencies),
        baseline=load.baseline,
    )


def check(server: "Server", load: Load, expect: int = 200) -> httpx.Response:
    """Send ``load`` once and insist on ``expect``: a benchmark of error answers measures nothing."""
    if load.bodies:
        content: str | None = load.bodies[-1]  # the one a run reaches last, if ever: the others stay unused
    else:
        content = load.body.replace("{n}", uuid.uuid4().hex) if load.body else None
    headers = {name: value.replace("{n}", uuid.uuid4().hex) for name, value in load.headers.items()}
    response = httpx.request(load.method, server.base_url + load.path, headers=headers, content=content, timeout=30)
    if response.status_code != expect:
        raise RuntimeError(f"{load.name}: expected {expect}, got {response.status_code}: {response.text[:500]}")
    return response


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as the figures print it (``0.52x``); every benchmark's ratios read the same."""
    if baseline <= 0 or not math.isfinite(value / baseline):
        return "n/a"
    return f"{value / baseline:,.2f}x"


def print_figures(title: str, figures: list[Figure]) -> None:
    """A table: each figure, its baseline's figure and the ratio of their throughputs."""
    by_name = {figure.name: figure for figure in figures}
    print(f"\n== {title}")
    header = f"{'request':<52} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'errors':>6} {'RSS MiB':>7}"
    print(header + "   vs baseline")
    for figure in figures:
        line = (
            f"{figure.name:<52} {figure.requests_per_second:7.0f} {figure.p50_ms:8.2f} {figure.p99_ms:8.2f}"
            f" {figure.cpu_ms:7.3f} {figure.errors:6d} {figure.rss_mib:7.1f}"
        )
        base = by_name.get(figure.baseline or "")
        if base is not None:
            line += (
                f"   {ratio(figure.requests_per_second, base.requests_per_second)} of {base.name}"
                f" ({base.requests_per_second:.0f} req/s, p99 {base.p99_ms:.2f} ms, CPU {base.cpu_ms:.3f} ms)"
            )
        print(line, flush=True)


@dataclass(frozen=True)
class Timing:
    """Something done once and timed: ``count`` things (rows, lines, calls) in ``seconds``."""

    name: str
    seconds: float
    count: int = 0
    unit: str = "rows"
    baseline: str | None = None
    note: str = ""


def print_timings(title: str, timings: list[Timing]) -> None:
    """A table: each timing, its rate, and its time as a multiple of its baseline's (slower is more)."""
    by_name = {timing.name: timing for timing in timings}
    print(f"\n== {title}")
    for timing in timings:
        rate = f"{timing.count / timing.seconds:10,.0f} {timing.unit}/s" if timing.count and timing.seconds else ""
        line = f"{timing.name:<52} {timing.seconds:8.3f} s {rate:>18}"
        base = by_name.get(timing.baseline or "")
        if base is not None:
            line += f"   {ratio(timing.seconds, base.seconds)} the time of {base.name} ({base.seconds:.3f} s)"
        if timing.note:
            line += f"   {timing.note}"
        print(line, flush=True)


def timed(action: Any) -> tuple[float, Any]:
    """Wall seconds of ``action()``, and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def cursor_near_end(server: "Server", key: str, path: str, params: Mapping[str, str] | None = None) -> str:
    """The cursor of a page near the end of a list (about 100 rows before it, or half way on a short list),
    found by walking it as a client would."""
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        total = client.get(path, params={**(params or {}), "limit": 1, "count": "true"}).json()["total"]
        leave = min(100, total // 2)
        size = 200 if total > 2000 else max(1, total // 10)
        walked, cursor = 0, None
        while walked < total - leave:
            page = client.get(path, params={**(params or {}), "limit": size, **({"cursor": cursor} if cursor else {})})
            page.raise_for_status()
            walked += len(page.json()["items"])
            cursor = page.json()["next_cursor"] or cursor
            if page.json()["next_cursor"] is None:
                break
    if cursor is None:
        raise RuntimeError(f"{path} has too few rows ({total}) for a page near its end")
    return str(cursor)


# ---- servers ----------------------------------------------------------------------------------------------------


def _pinned(pin: bool, cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if pin else []


class Server:
    """A server process (and its workers) on a free loopback port, pinned to ``SERVER_CPU`` when asked, run from
    the checkout (so ``python -m bench.…`` finds this package), stopped on exit."""

    def __init__(self, command: list[str], env: Mapping[str, str], *, ready_path: str, pin: bool = False) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._command = [*_pinned(pin, SERVER_CPU), *command, "--port", str(self.port)]
        self._env = {**os.environ, **env}
        self._ready_path = ready_path
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server, closed in __exit__
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            self._command, env=self._env, cwd=ROOT, stdout=self._log, stderr=self._log, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(self.base_url + self._ready_path, timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"server did not start: {self.output()}")

    def __exit__(self, *_: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pids(self) -> list[int]:
        """The server's process and its descendants (uvicorn's workers)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(stat.parent.name))
        found, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, []))
        return found

    def rss_mib(self) -> float:
        """Resident memory of the server's processes now (VmRSS), MiB."""
        kib = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        return kib / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        return sum(cpu_seconds(pid) or 0.0 for pid in self.pids())

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process, or None when it is not (or no longer) on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def opscenter_server(url: str, *, pin: bool = False, workers: int = 1, **settings: str) -> Server:
    """The real thing: ``opscenter serve --no-scheduler`` (``--workers N``), ready once ``/ready`` answers 200."""
    env = {"OPSCENTER_DATABASE_URL": url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    env.update({f"OPSCENTER_{name.upper()}": value for name, value in settings.items()})
    command = [str(BIN / "opscenter"), "serve", "--no-scheduler", "--workers", str(workers)]
    return Server(command, env, ready_path="/ready", pin=pin)


def module_server(module: str, *arguments: str, pin: bool = False, ready_path: str = "/health") -> Server:
    """A benchmark's own server: ``python -m <module> <arguments> --port N`` (a baseline, a variant)."""
    return Server([sys.executable, "-m", module, *arguments], {}, ready_path=ready_path, pin=pin)


def floor_server(url: str, *, pin: bool = False) -> Server:
    """OpsCenter plus the house floor of a write: an audited POST without its SQL (``bench/floor.py``)."""
    return module_server("bench.floor", "--url", url, pin=pin)


def bare_server(url: str, *, pin: bool = False) -> Server:
    """The baseline of a write: a bare Litestar endpoint inserting one row per request (``bench/bare.py``)."""
    return module_server("bench.bare", "--url", url, pin=pin)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tools(*tools: str) -> None:
    """Stop with the install command when a tool is missing (wrk, and taskset when pinning)."""
    packages = {"wrk": "wrk", "taskset": "util-linux", "prometheus": "prometheus", "promtool": "prometheus"}
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"this benchmark needs {tool}: apt-get install {packages.get(tool, tool)}")


# ---- databases --------------------------------------------------------------------------------------------------


@contextmanager
def databases(which: Iterable[str] = BOTH, *, migrate: bool = True) -> Iterator[dict[str, str]]:
    """Fresh databases by name: a SQLite file (WAL) and a PostgreSQL database created for this run and dropped
    after it; migrated to head unless ``migrate`` is false."""
    from tests.support import postgres_database

    which = list(which)
    folder = tempfile.mkdtemp(prefix="opscenter-bench-")
    try:
        with ExitStack() as stack:
            urls: dict[str, str] = {}
            for name in which:
                if name == "sqlite":
                    urls[name] = f"sqlite:///{folder}/bench.db"
                elif name == "postgresql":
                    urls[name] = stack.enter_context(postgres_database("opscenter_bench"))
                else:
                    raise ValueError(f"no such database: {name}")
            if migrate:
                for url in urls.values():
                    upgrade(url)
            yield urls
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def settings_for(url: str, **overrides: Any) -> Any:
    from opscenter.settings import LogLevel, Settings

    return Settings(database_url=url, log_level=LogLevel.WARNING, **overrides)


def upgrade(url: str) -> None:
    from opscenter.migrate import upgrade as migrate_to_head

    migrate_to_head(settings_for(url))


def settle(url: str, *tables: str) -> None:
    """Fresh statistics (and no dead rows) after a bulk seed, as a running database has them from autovacuum:
    ``VACUUM ANALYZE`` on PostgreSQL, ``ANALYZE`` on SQLite; of ``tables``, or of everything."""
    from sqlalchemy import create_engine

    from opscenter.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            for table in tables or (None,):
                connection.exec_driver_sql(command if table is None else f"{command} {table}")
    finally:
        engine.dispose()


def admin_conninfo() -> str:
    """The PostgreSQL server's maintenance connection (to watch ``pg_stat_activity``)."""
    from tests.support import postgres_admin_url

    return make_url(postgres_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresActivity:
    """Samples one database's ``pg_stat_activity`` (and its backends' CPU time) in a thread while a load runs:
    how many sessions were active, on what they waited, how busy the database itself was."""

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.database = make_url(url).database or ""
        self.interval = interval
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.cpu_start: dict[int, float] = {}
        self.cpu_end: dict[int, float] = {}
        self.wall = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PostgresActivity":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.monotonic() - self._started

    def _run(self) -> None:
        with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                rows = connection.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                self.samples += 1
                for pid, state, wait_type, wait_event in rows:
                    cpu = cpu_seconds(pid)
                    if cpu is not None:
                        self.cpu_start.setdefault(pid, cpu)
                        self.cpu_end[pid] = cpu
                    if state == "active":
                        self.states[f"waiting on {wait_type}:{wait_event}" if wait_type else "running"] += 1
                    else:
                        self.states[str(state)] += 1

    @property
    def db_cores(self) -> float:
        """CPU seconds of the database's backends per wall second (1.00 = one core busy)."""
        return sum(self.cpu_end[pid] - self.cpu_start[pid] for pid in self.cpu_end) / max(self.wall, 1e-6)

    @property
    def average_active(self) -> float:
        active = sum(count for state, count in self.states.items() if not state.startswith("idle"))
        return active / max(self.samples, 1)

    def summary(self, top: int = 4) -> str:
        total = max(sum(self.states.values()), 1)
        return ", ".join(f"{state} {count / total:.0%}" for state, count in self.states.most_common(top))


# ---- profiling --------------------------------------------------------------------------------------------------


@contextmanager
def profiled(server: Server, out: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (collapsed stacks in ``out``); nothing if ``out`` is None."""
    if out is None:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    # --gil: only the thread holding the GIL, so threads waiting for it do not count as work
    command = [spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", "200", "--gil", "--nonblocking"]
    process = subprocess.Popen([*command, "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def print_profile(name: str, collapsed: Path, *, limit: int = 30) -> None:
    """The functions most often on the stack (inclusive), then most often on top (own time)."""
    print(f"   profile of {name} ({collapsed}): share of samples")
    for own in (False, True):
        print("   own time:" if own else "   inclusive:")
        for frame, share in top_frames(collapsed, limit=limit if not own else limit // 2, own=own):
            print(f"     {share:6.1%}  {frame}")


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
