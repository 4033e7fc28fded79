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
runs (tests/bench/test_smoke.py), not a measurement. Figures from a shared machine are noisy: compare ratios and CPU
per request, and quote the command that made them.

The pieces: ``command`` (the shared options), ``databases``, ``servers`` (and py-spy), ``load`` (wrk and the quick
check), ``report`` (the tables). Benchmarks import them from here.
"""

from bench.harness.command import BIN, BOTH, ROOT, SERVER_CPU, WRK_CPU, Options, arguments, chosen, each, options
from bench.harness.databases import PostgresActivity, admin_conninfo, databases, settings_for, settle, upgrade
from bench.harness.load import BARE_INSERT, HEALTH, Figure, Load, check, cursor_near_end, drive
from bench.harness.report import Timing, print_figures, print_timings, ratio
from bench.harness.servers import (
    Server,
    bare_server,
    cpu_seconds,
    floor_server,
    module_server,
    opscenter_server,
    print_profile,
    profiled,
    require_tools,
    top_frames,
)

__all__ = [
    "BARE_INSERT",
    "BIN",
    "BOTH",
    "HEALTH",
    "ROOT",
    "SERVER_CPU",
    "WRK_CPU",
    "Figure",
    "Load",
    "Options",
    "PostgresActivity",
    "Server",
    "Timing",
    "admin_conninfo",
    "arguments",
    "bare_server",
    "check",
    "chosen",
    "cpu_seconds",
    "cursor_near_end",
    "databases",
    "drive",
    "each",
    "floor_server",
    "module_server",
    "opscenter_server",
    "options",
    "print_figures",
    "print_profile",
    "print_timings",
    "profiled",
    "ratio",
    "require_tools",
    "settings_for",
    "settle",
    "top_frames",
    "upgrade",
]
