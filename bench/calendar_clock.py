"""The business clock: 100,000 deadlines and 100,000 measurements, beside the naive minute-by-minute loop.

What a ticket sweep asks of the clock, per open ticket: a due time (``add_business_minutes``: response and
resolution targets of 15 minutes to five working days from a creation time in 2025–2026) and a measured duration
(``business_minutes_between``: paused time, time to resolve, over up to 60 calendar days). The baseline is the
obvious implementation: step a minute at a time, asking the same calendar whether each minute is worked. It is
far too slow for 100,000 calls, so it runs on a sample and its time per call is set beside the real one. The
sample's answers are checked equal, so the figures compare two implementations of the same function.

Pure CPU, no database: ``.venv/bin/python -m bench.calendar_clock [--calls 100000] [--sample 100] [--seed 7]``.
Figures from a shared machine are noisy; quote them with the command.
"""

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.harness import arguments, ratio
from opscenter.calendar.working_time import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 9, 30, tzinfo=UTC)  # leaves room for five working days and 60 calendar days inside 2026
TARGETS = [15, 30, 240, 480, 1620, 2700]  # the default ticket targets, minutes (DESIGN §5)


def naive_add(calendar: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    """Minute by minute from ``start`` (whole minutes): each minute that is worked counts one."""
    instant = start
    while minutes > 0:
        local = instant.astimezone(SHANGHAI)
        if calendar.is_working_day(local.date()) and any(s.start <= local.time() < s.end for s in calendar.hours):
            minutes -= 1
        instant += timedelta(minutes=1)
    return instant


def naive_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    counted, instant = 0, start
    while instant + timedelta(minutes=1) <= end:
        local = instant.astimezone(SHANGHAI)
        if calendar.is_working_day(local.date()) and any(s.start <= local.time() < s.end for s in calendar.hours):
            counted += 1
        instant += timedelta(minutes=1)
    return counted


def whole_minute(rng: random.Random) -> datetime:
    return FIRST + timedelta(minutes=rng.randrange(int((LAST - FIRST).total_seconds() // 60)))


def timed(calls: Sequence[tuple[datetime, Any]], function: Callable[[datetime, Any], Any]) -> tuple[float, list[Any]]:
    """Seconds for every call, and the answers in call order."""
    started = time.perf_counter()
    answers = [function(a, b) for a, b in calls]
    return time.perf_counter() - started, answers


def main() -> None:
    parser = arguments(__doc__, databases=(), pin=False)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=100, help="calls of the naive baseline (it is slow)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    calendar = WorkingCalendar()
    built_ms = (time.perf_counter() - started) * 1000

    additions = [(whole_minute(rng), rng.choice(TARGETS)) for _ in range(args.calls)]
    spans = []
    for _ in range(args.calls):
        start = whole_minute(rng)
        spans.append((start, start + timedelta(minutes=rng.randrange(1, 60 * 24 * 60))))

    add_s, added = timed(additions, calendar.add_business_minutes)
    between_s, measured = timed(spans, calendar.business_minutes_between)

    sample = min(args.sample, args.calls)
    naive_add_s, naive_added = timed(additions[:sample], lambda s, m: naive_add(calendar, s, m))
    naive_between_s, naive_measured = timed(spans[:sample], lambda s, e: naive_between(calendar, s, e))
    assert naive_added == added[:sample], "the fast clock and the naive loop disagree on a due time"
    assert naive_measured == measured[:sample], "the fast clock and the naive loop disagree on a duration"

    print(f"business clock, {args.calls:,} calls each (calendar built in {built_ms:.1f} ms, 2004–2026)")
    for name, fast_s, slow_s in (
        ("add_business_minutes", add_s, naive_add_s),
        ("business_minutes_between", between_s, naive_between_s),
    ):
        fast_us, slow_us = fast_s / args.calls * 1e6, slow_s / sample * 1e6
        print(
            f"  {name:<25} {fast_s * 1000:8.1f} ms for {args.calls:,} = {fast_us:6.2f} µs/call | "
            f"naive minute loop {slow_us:10.1f} µs/call (sample {sample:,}, same answers) | "
            f"ratio {ratio(slow_us, fast_us)}"
        )


if __name__ == "__main__":
    main()
