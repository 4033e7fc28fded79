"""The daily SLA pull against a real Prometheus, beside Prometheus alone answering the very same queries.

For 1,000 and 10,000 service instances (one contract line each), one day (2026-10-15, Asia/Shanghai) of 1-minute
``probe_success`` per instance is backfilled into its own Prometheus (``tests/prometheus.py``), and:

- pull:       ``sla.measurements.pull.pull`` for that day: the queries, the counts matched to instances, the
              rows written (in a transaction rolled back after each run, so every run does the whole day; the
              table vacuumed between runs, as a real pull's table holds no dead rows);
- Prometheus: the same HTTP requests the pull made, replayed with a bare httpx client: the time Prometheus
              alone takes to answer them, the floor of any pull.

Printed per size: the pull's wall time (median of ``--runs``), its HTTP requests, Prometheus alone, the pull's own
time beyond it, and the ratio. The goal (<= 1.5x) is the issue's, for 10,000 instances; 1,000 shows that the
requests do not grow with the number of instances (there Prometheus answers in about 0.1 s, so the pull's fixed
tens of milliseconds and the machine's noise weigh more in the ratio).

    .venv/bin/python -m bench.sla_pull [--sizes 1000,10000] [--runs 9] [--db sqlite|postgresql|both]

The instances: the first 100 on contracts made through the contract flows and provisioned through the instances
service (``bench/seed.py``), the rest copies of the last of those contracts with its lines and instances. Needs
``prometheus`` and ``promtool`` (Debian's package). Figures from a shared machine are noisy.
"""

import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench import seed
from bench.harness import Timing, arguments, chosen, databases, print_timings, require_tools, settings_for, settle
from monitoring.promql import PrometheusClient
from opscenter.db import Database, WithinTransaction
from opscenter.heap import freeze_startup_heap
from opscenter.settings import Settings
from sla.measurements.models import Measurement
from sla.measurements.pull import pull
from tests import loopback
from tests.prometheus import Prometheus, minutes, write_series

DAY = date(2026, 10, 15)


class Recording(httpx.HTTPTransport):
    """Keeps the form of every request the pull sends, for the replay."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.forms.append((request.url.path, request.read()))
        return super().handle_request(request)


def write_day(path: Path, instances: int) -> None:
    """``instances`` series ``probe_success{instance="iN"}``, each down for N mod 30 minutes of the day."""
    stamps = list(minutes(DAY, DAY))
    with path.open("w") as out:
        out.write("# TYPE probe_success gauge\n")
        for n in range(1, instances + 1):
            down = n % 30
            write_series(out, "probe_success", {"instance": f"i{n}"},
                         ((at, 0 if k < down else 1) for k, at in enumerate(stamps)))  # fmt: skip
        out.write("# EOF\n")


def one_pull(database: Database, settings: Settings, transport: httpx.BaseTransport | None = None) -> tuple[float, int]:
    """(seconds, instance-days written) of one pull of DAY, rolled back afterwards."""
    session = database.session(write=True)
    try:
        with PrometheusClient(settings.prometheus, transport=transport) as prometheus:
            started = time.perf_counter()
            # its read and its day's write in one transaction, rolled back: every run measures the whole day
            result = pull(WithinTransaction(session), prometheus, [DAY], now=datetime.now(UTC))
            session.flush()
            elapsed = time.perf_counter() - started
        if result.failure is not None:
            raise RuntimeError(f"the pull failed: {result.failure}")
        return elapsed, result.measured
    finally:
        session.rollback()
        session.close()


def replay(url: str, forms: list[tuple[str, bytes]]) -> float:
    with loopback.client(base_url=url, timeout=120) as client:
        started = time.perf_counter()
        for path, body in forms:
            answer = client.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
            answer.raise_for_status()
            answer.json()  # Prometheus alone includes reading its JSON, as the pull must
        return time.perf_counter() - started


def seed_instances(url: str, size: int) -> None:
    """One department with ``size`` instances (labels i1…iN) on contracts in force all 2026."""
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
        seed.provisioned(
            database,
            people,
            service_id=service_id,
            departments=people.department_ids * size,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            real=100,
        )
    finally:
        database.dispose()


def run(size: int, db_url: str, runs: int) -> list[Timing]:
    with tempfile.TemporaryDirectory(prefix="bench-sla-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        seed_instances(db_url, size)
        settle(db_url)
        write_day(root / "day.om", size)
        server = Prometheus(root / "prometheus")
        server.backfill(root / "day.om")
        server.start()
        print(f"  {size:,} instances: seeded and backfilled in {time.perf_counter() - started:.0f} s", flush=True)
        settings = settings_for(db_url, prometheus_url=server.url)
        database = Database(settings)
        freeze_startup_heap()  # as `opscenter worker` and `opscenter sla pull` do once they are set up
        try:
            recording = Recording()
            _, measured = one_pull(database, settings, recording)  # also warms Prometheus and the database
            if measured != size:
                raise RuntimeError(f"measured {measured} instances, expected {size}")
            replay(server.url, recording.forms)
            pulls, alone = [], []
            for _ in range(runs):
                settle(db_url, Measurement.__tablename__)
                pulls.append(one_pull(database, settings)[0])
                alone.append(replay(server.url, recording.forms))
        finally:
            database.dispose()
            server.stop()
    pull_s, alone_s = statistics.median(pulls), statistics.median(alone)
    requests = len(recording.forms)
    baseline = f"Prometheus alone, the same {requests} requests ({size:,})"
    return [
        Timing(baseline, alone_s, requests, "requests"),
        Timing(
            f"sla pull, {size:,} instances, 1 day",
            pull_s,
            size,
            "instances",
            baseline=baseline,
            note=f"the pull's own {1000 * (pull_s - alone_s):4.0f} ms{' (goal <= 1.5x)' if size == 10_000 else ''}",
        ),
    ]


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=9)  # Prometheus alone swings 20-40 % between runs here
    args = parser.parse_args()
    require_tools("prometheus", "promtool")
    for name in chosen(args):
        timings = []
        for size in (int(text) for text in args.sizes.split(",")):
            with databases([name]) as urls:
                timings += run(size, urls[name], args.runs)
        print_timings(
            f"SLA daily pull ({name}, median of {args.runs} runs; a shared machine: figures are noisy)", timings
        )


if __name__ == "__main__":
    main()
