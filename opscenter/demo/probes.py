"""A month of the demo's SLIs, as a blackbox prober would have recorded them: mostly up, a few incidents, one
instance whose prober was itself down for days (a gap: unknown, not down), written as OpenMetrics text for
``promtool tsdb create-blocks-from openmetrics``. Plain data; the same every time for the same instances."""

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from monitoring.promql import quote


@dataclass(frozen=True)
class Probe:
    """One instance's SLI series: its metric and labels, and how often the prober samples it."""

    key: str  # the service instance's id
    metric: str
    labels: dict[str, str]
    interval_seconds: int


@dataclass(frozen=True)
class Incident:
    start: int  # unix seconds
    end: int
    kind: str  # "down": samples are 0; "gap": no samples at all


def incidents(
    probes: Sequence[Probe],
    start: datetime,
    end: datetime,
    *,
    maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
) -> dict[str, list[Incident]]:
    """Which instances have which incidents between ``start`` and ``end``: most a minute or two of downtime,
    a few an outage of hours (an SLA credit), one a three-day gap in its samples (insufficient coverage); and
    downtime in each instance's approved ``maintenance`` windows (which the SLA does not count)."""
    rng = random.Random("probes")
    first, last = int(start.timestamp()), int(end.timestamp())
    span = last - first
    plan: dict[str, list[Incident]] = {}
    for index, probe in enumerate(probes):
        found = []
        for _ in range(rng.randint(0, 3)):  # blips: a failed probe or two
            at = first + rng.randrange(span)
            found.append(Incident(at, at + rng.choice([60, 120, 180]), "down"))
        if index % 12 == 5:  # a real outage: 2 to 6 hours → below 99.9 %, or 99.5 %
            at = first + rng.randrange(span // 4, span // 2)
            found.append(Incident(at, at + rng.choice([2, 4, 6]) * 3600, "down"))
        if index == 7:  # the prober itself was down for three days: unknown, never downtime
            at = first + span // 3
            found.append(Incident(at, at + 3 * 86400, "gap"))
        for window_start, window_end in (maintenance or {}).get(probe.key, ()):
            found.append(Incident(int(window_start.timestamp()), int(window_end.timestamp()), "down"))
        plan[probe.key] = sorted(found, key=lambda incident: incident.start)
    return plan


def write_openmetrics(
    out: IO[str], probes: Sequence[Probe], plan: dict[str, list[Incident]], start: datetime, end: datetime
) -> int:
    """Every probe's samples from ``start`` to ``end`` (aligned to its interval), then ``# EOF``; the count."""
    written = 0
    for probe in probes:
        inside = ",".join(f"{name}={quote(value)}" for name, value in sorted(probe.labels.items()))
        prefix = f"{probe.metric}{{{inside}}} "
        lines = [f"{prefix}{value} {at}\n" for at, value in _samples(probe, plan[probe.key], start, end)]
        out.writelines(lines)
        written += len(lines)
    out.write("# EOF\n")
    return written


def _samples(probe: Probe, found: list[Incident], start: datetime, end: datetime) -> Iterator[tuple[int, int]]:
    step = probe.interval_seconds
    first = -(-int(start.timestamp()) // step) * step
    for at in range(first, int(end.timestamp()), step):
        hit = next((incident for incident in found if incident.start <= at < incident.end), None)
        if hit is None:
            yield at, 1
        elif hit.kind == "down":
            yield at, 0


def window(now: datetime, first: datetime) -> tuple[datetime, datetime]:
    """From ``first`` to three hours before ``now``: Prometheus keeps the last hours in memory, and backfilled
    blocks must not reach into them."""
    return first, now - timedelta(hours=3)
