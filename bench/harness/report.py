"""Figures printed beside their baselines, with the ratio."""

import math
from dataclasses import dataclass

from bench.harness.load import Figure


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as the figures print it (``0.52x``); every benchmark's ratios read the same."""
    if baseline <= 0 or not math.isfinite(value / baseline):
        return "n/a"
    return f"{value / baseline:,.2f}x"


def print_figures(title: str, figures: list[Figure]) -> None:
    """A table: each figure, its baseline's figure and the ratio of their throughputs."""
    by_name = {figure.name: figure for figure in figures}
    print(f"\n== {title}")
    header = f"{'request':<52} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    header += f" {'CPU ms':>7} {'errors':>6} {'RSS MiB':>7}"
    print(header + "   vs baseline")
    for figure in figures:
        line = (
            f"{figure.name:<52} {figure.requests_per_second:7.0f} {figure.p50_ms:8.2f} {figure.p95_ms:8.2f}"
            f" {figure.p99_ms:8.2f}"
            f" {figure.cpu_ms:7.3f} {figure.errors:6d} {figure.rss_mib:7.1f}"
        )
        base = by_name.get(figure.baseline or "")
        if base is not None:
            line += (
                f"   {ratio(figure.requests_per_second, base.requests_per_second)} of {base.name}"
                f" ({base.requests_per_second:.0f} req/s, p95 {base.p95_ms:.2f} ms, p99 {base.p99_ms:.2f} ms,"
                f" CPU {base.cpu_ms:.3f} ms)"
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
