"""Every benchmark runs, at a tiny size, as ``python -m bench.NAME``, and prints its figures beside its baselines.

So a schema or API change that breaks a benchmark's seed, its requests or its report fails the suite instead of
surfacing months later. Each runs in a process of its own, as from the command line: a benchmark defines tables and
routes of its own, which must not leak into the suite's models. Load benchmarks run with ``--requests`` (a few
requests per load from the benchmark itself, any error answer fails) instead of wrk; tests/bench/test_harness.py
drives wrk itself. A benchmark that takes ``--db`` runs on this run's database; PostgreSQL-only ones in the
PostgreSQL run.
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


@dataclass(frozen=True)
class Benchmark:
    name: str
    arguments: tuple[str, ...]
    ratios: int  # how many figures it prints beside a baseline at this size, at least
    databases: tuple[str, ...] = ("sqlite", "postgresql")  # those it takes --db for; () for none


BENCHMARKS = [
    Benchmark("requests", QUICK, ratios=4),
    Benchmark("request_logging", QUICK, ratios=2),
    Benchmark("lists", (*QUICK, "--rows", "60"), ratios=8),
    Benchmark("names_search", (*QUICK, "--rows", "60"), ratios=5),
    Benchmark("tickets", (*QUICK, "--tickets", "60"), ratios=4 + 16 + 1),
    Benchmark("console_pages", (*QUICK, "--tickets", "60", "--scale", "tiny"), ratios=9 + 1),
    Benchmark("ratings_api", (*QUICK, "--instances", "3"), ratios=1 + 3),
    Benchmark("writes", (*QUICK, "--instances", "3"), ratios=3 + 1),
    Benchmark("sync_vs_async", QUICK, ratios=2),
    Benchmark("asset_import", ("--rows", "20"), ratios=6),
    Benchmark("sla_pull", ("--sizes", "5", "--runs", "1"), ratios=1),
    Benchmark("billing_run", ("--lines", "30"), ratios=2),
    Benchmark("job_stall", ("--seconds", "0.3", "--scenarios", "refused"), ratios=5),
    Benchmark("exports", ("--tickets", "60", "--events", "60"), ratios=4),
    Benchmark("notifications", ("--events", "200", "--writes", "8"), ratios=2),
    Benchmark("rate_limits", QUICK, ratios=4),
    Benchmark("calendar_clock", ("--calls", "200", "--sample", "2"), ratios=2, databases=()),
    Benchmark("scale_out", (*QUICK, "--processes", "1,2", "--warmup", "1"), ratios=1, databases=("postgresql",)),
    # faults: a PostgreSQL cluster of its own, whatever the run's database; kept on the PostgreSQL run
    Benchmark("faults", ("--seconds", "2", "--instances", "2"), ratios=1, databases=("postgresql",)),
    Benchmark(
        "audit_throughput",
        ("--writers", "1", "--seconds", "0.5", "--mode", "service"),
        ratios=1,
        databases=("postgresql",),
    ),
]


def _cases() -> list[object]:
    cases: list[object] = []
    for benchmark in BENCHMARKS:
        marks = [pytest.mark.postgresql_only] if benchmark.databases == ("postgresql",) else []
        cases.append(pytest.param(benchmark, id=benchmark.name, marks=marks))
    return cases


@pytest.mark.parametrize("benchmark", _cases())
def test_benchmark_runs_and_prints_its_figures_beside_their_baselines(benchmark: Benchmark, backend: str) -> None:
    command = [sys.executable, "-m", f"bench.{benchmark.name}", *benchmark.arguments]
    if len(benchmark.databases) > 1:
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
