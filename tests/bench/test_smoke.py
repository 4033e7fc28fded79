"""Every benchmark runs, at a tiny size, as ``python -m bench.NAME``, and prints its figures beside its baselines.

So a schema or API change that breaks a benchmark's seed, its requests or its report fails the suite instead of
surfacing months later. Each runs in a process of its own, as from the command line: a benchmark defines tables and
routes of its own, which must not leak into the suite's models. Load benchmarks run with ``--requests`` (a few
requests per load from the benchmark itself, any error answer fails) instead of wrk; tests/bench/test_harness.py
drives wrk itself.

Each benchmark runs once per suite, in the run of the database it is kept on, except those whose own code takes a
different path per database (the by-hand SQL of ``bench.writes``, ``bench.requests``' ``pg_stat_activity`` sampler,
``bench.tickets``' bulk load, ``bench.sync_vs_async``'s async drivers, ``bench/seed.py``'s COPY against executemany
through them): those run in both. The rest share the harness those exercise on both databases, and the house's code
on each database is the rest of the suite's work; running them twice cost the suite minutes and found nothing the
first run did not.
"""

import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A figure beside its baseline: "0.52x", "1,234.00x" (bench.harness.ratio).
RATIO = re.compile(r"(?<![\w.])(\d[\d,]*\.\d\d)x\b")
QUICK = ("--requests", "4", "--connections", "2")
# the modules of bench/ that are a benchmark's parts, not a benchmark
NOT_BENCHMARKS = {"__init__", "audit_writers", "bare", "by_hand", "floor", "harness", "seed"}


@dataclass(frozen=True)
class Benchmark:
    name: str
    arguments: tuple[str, ...]
    ratios: int  # how many figures it prints beside a baseline at this size, at least
    databases: tuple[str, ...] = ("sqlite", "postgresql")  # the runs it is smoked in; () for any one run
    takes_db: bool = True  # it takes --db (given the run's database); False for those with a database of their own


BENCHMARKS = [
    Benchmark("requests", QUICK, ratios=4),
    Benchmark("request_logging", QUICK, ratios=2, databases=("sqlite",)),
    Benchmark("lists", (*QUICK, "--rows", "60"), ratios=8, databases=("sqlite",)),
    Benchmark("names_search", (*QUICK, "--rows", "60"), ratios=5, databases=("postgresql",)),
    Benchmark("tickets", (*QUICK, "--tickets", "60"), ratios=4 + 16 + 1),
    Benchmark("console_pages", (*QUICK, "--tickets", "60", "--scale", "tiny"), ratios=9 + 1, databases=("sqlite",)),
    Benchmark("ratings_api", (*QUICK, "--instances", "3"), ratios=1 + 3, databases=("postgresql",)),
    Benchmark("writes", (*QUICK, "--instances", "3"), ratios=3 + 1),
    Benchmark("sync_vs_async", QUICK, ratios=2),
    Benchmark("asset_import", ("--rows", "20"), ratios=6, databases=("sqlite",)),
    Benchmark("sla_pull", ("--sizes", "5", "--runs", "1"), ratios=1, databases=("sqlite",)),
    Benchmark("billing_run", ("--lines", "30"), ratios=2, databases=("sqlite",)),
    Benchmark("job_stall", ("--seconds", "0.3", "--scenarios", "refused"), ratios=5, databases=("sqlite",)),
    Benchmark("exports", ("--tickets", "60", "--events", "60"), ratios=4, databases=("postgresql",)),
    Benchmark("notifications", ("--events", "200", "--writes", "8"), ratios=2, databases=("postgresql",)),
    Benchmark("rate_limits", QUICK, ratios=4, databases=("sqlite",)),
    Benchmark("calendar_clock", ("--calls", "200", "--sample", "2"), ratios=2, databases=("sqlite",), takes_db=False),
    Benchmark(
        "scale_out",
        (*QUICK, "--processes", "1,2", "--warmup", "1"),
        ratios=1,
        databases=("postgresql",),
        takes_db=False,
    ),
    # faults: a PostgreSQL cluster of its own, whatever the run's database; kept on the PostgreSQL run
    Benchmark("faults", ("--seconds", "2", "--instances", "2"), ratios=1, databases=("postgresql",), takes_db=False),
    Benchmark(
        "audit_throughput",
        ("--writers", "1", "--seconds", "0.5", "--mode", "service"),
        ratios=1,
        databases=("postgresql",),
        takes_db=False,
    ),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The benchmarks kept on this run's database, each under its name."""
    if "benchmark" in metafunc.fixturenames:
        run = metafunc.config.getoption("--db")
        kept = [benchmark for benchmark in BENCHMARKS if run in benchmark.databases]
        metafunc.parametrize("benchmark", kept, ids=[benchmark.name for benchmark in kept])


def test_every_benchmark_is_smoked_in_a_run() -> None:
    modules = {
        path.stem for path in (ROOT / "bench").iterdir() if path.suffix == ".py" or (path / "__main__.py").exists()
    }
    assert sorted(benchmark.name for benchmark in BENCHMARKS) == sorted(modules - NOT_BENCHMARKS)
    assert all(set(benchmark.databases) & {"sqlite", "postgresql"} for benchmark in BENCHMARKS)


def test_benchmark_runs_and_prints_its_figures_beside_their_baselines(benchmark: Benchmark, backend: str) -> None:
    command = [sys.executable, "-m", f"bench.{benchmark.name}", *benchmark.arguments]
    if benchmark.takes_db:
        command += ["--db", backend]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=300, check=False)
    took = time.monotonic() - began
    assert done.returncode == 0, (
        f"{' '.join(command)} failed after {took:.0f} s:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    )
    ratios = [float(found.replace(",", "")) for found in RATIO.findall(done.stdout)]
    assert len(ratios) >= max(benchmark.ratios, 1), f"too few figures beside a baseline:\n{done.stdout}"
    assert all(math.isfinite(value) and value >= 0 for value in ratios), done.stdout
