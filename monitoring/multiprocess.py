"""One ``/metrics`` for several API processes: prometheus-client's multiprocess mode.

``opscenter serve --workers N`` gives its processes one fresh directory in ``PROMETHEUS_MULTIPROC_DIR``
(set before they start: prometheus-client picks its storage when it is first imported). Each process
writes its samples there; ``/metrics`` on any of them reads the whole directory, so counters and
histograms are summed across processes and each gauge is combined as its ``multiprocess_mode`` says.
With one process the variable is unset and the ordinary in-process registry answers.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitoring.metrics import BUILD_INFO, BUSINESS_COLLECTORS, BUSINESS_FIGURES_SERVED, SCRAPE_TIME_COLLECTORS

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def multiprocess_directory() -> Path | None:
    """The shared metrics directory when this process runs in multiprocess mode, else None."""
    value = os.environ.get(DIRECTORY_VARIABLE) or os.environ.get(DIRECTORY_VARIABLE.lower())
    return Path(value) if value else None


@contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """Set up ``PROMETHEUS_MULTIPROC_DIR`` for the API processes about to start, and clean up after them.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used and emptied at start (stale files from a previous
    run would add their counts); otherwise a new temporary directory is made and removed at exit.
    """
    given = multiprocess_directory()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        for stale in given.glob("*.db"):
            stale.unlink()
        path = given
    else:
        path = Path(tempfile.mkdtemp(prefix="opscenter-metrics-"))
    os.environ[DIRECTORY_VARIABLE] = str(path)
    try:
        yield path
    finally:
        if given is None:
            del os.environ[DIRECTORY_VARIABLE]
            shutil.rmtree(path, ignore_errors=True)


def exposition(*, business_figures: bool = False) -> bytes:
    """The text ``/metrics`` answers: every process's samples in multiprocess mode, this one's otherwise; and the
    business figures when ``business_figures`` (the scraper authenticated), with a gauge saying which it was."""
    directory = multiprocess_directory()
    if directory is None:
        text = generate_latest(REGISTRY)
    else:
        forget_dead_processes(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
        registry.register(BUILD_INFO)  # the same in every process, and an Info is not shared through files
        for collector in SCRAPE_TIME_COLLECTORS:  # read from the database: the same whichever process answers
            registry.register(collector)
        text = generate_latest(registry)
    business = CollectorRegistry()
    served = GaugeMetricFamily(
        BUSINESS_FIGURES_SERVED,
        "1 when this scrape sent the metrics token and got the business figures (budgets, SLA, ratings, tickets, "
        "statements), 0 when it got the process metrics only",
        value=1 if business_figures else 0,
    )
    business.register(_Fixed([served]))
    if business_figures:
        for collector in BUSINESS_COLLECTORS:
            business.register(collector)
    return text + generate_latest(business)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def forget_dead_processes(directory: Path) -> None:
    """Drop the ``live*`` gauges of processes that died (uvicorn replaces a crashed worker with a new pid),
    so a dead process is never counted as, say, the scheduler's leader. Counters and histograms of dead
    processes stay: totals never go backwards."""
    for path in directory.iterdir():
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match and not _alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), path=str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has that pid: not ours, but we cannot tell; keep it
        return True
    return True
