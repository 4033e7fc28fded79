"""October 2026 of 1-minute ``probe_success`` for the SLA tests, with known outages, a gap, missing days and a
maintenance window; the figures each instance must give, counted here by hand from the same plan."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tests.prometheus import minutes, shanghai, write_series

PERIOD = "2026-10"
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)
MINUTES = 31 * 1440  # 44640
JOB = "blackbox"


def span(start: str, end: str) -> range:
    """The whole minutes from ``start`` to ``end`` (Asia/Shanghai, end excluded), as unix seconds."""
    return range(shanghai(start), shanghai(end), 60)


@dataclass(frozen=True)
class Plan:
    instance: str
    down: tuple[range, ...] = ()
    absent: tuple[range, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def matchers(self) -> dict[str, str]:
        return {"instance": self.instance, "job": JOB, **self.labels}

    def value(self, at: int) -> int | None:
        if any(at in gap for gap in self.absent):
            return None
        return 0 if any(at in outage for outage in self.down) else 1

    def points(self) -> Iterator[tuple[int, int]]:
        for at in minutes(FIRST, LAST):
            if (value := self.value(at)) is not None:
                yield at, value


# A label value that would break out of a naive selector: the pull must escape it.
STEADY = Plan('https://steady.example.gov.cn/?q="1"\\')
OUTAGES = Plan(
    "https://outages.example.gov.cn",
    down=(span("2026-10-05 10:00", "2026-10-05 12:00"), span("2026-10-12 23:30", "2026-10-13 00:30")),
)
GAP = Plan(
    "https://gap.example.gov.cn",
    down=(span("2026-10-25 09:00", "2026-10-25 09:45"),),
    absent=(span("2026-10-08 02:00", "2026-10-08 05:00"),),
)
MISSING_DAYS = Plan("https://missing.example.gov.cn", absent=(span("2026-10-20 00:00", "2026-10-22 00:00"),))
MAINTAINED = Plan("https://maintained.example.gov.cn", down=(span("2026-10-15 14:00", "2026-10-15 15:00"),))
MAINTENANCE = ("2026-10-15T14:30:00+08:00", "2026-10-15T16:00:00+08:00")  # over the second half of the outage
PLANS = (STEADY, OUTAGES, GAP, MISSING_DAYS, MAINTAINED)


def write(path: Path) -> Path:
    with path.open("w") as out:
        out.write("# HELP probe_success Whether the probe succeeded\n# TYPE probe_success gauge\n")
        for plan in PLANS:
            write_series(out, "probe_success", plan.matchers, plan.points())
        out.write("# EOF\n")
    return path
