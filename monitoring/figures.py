"""Figures on ``/metrics``, read from the database when Prometheus scrapes: the business figures the dashboards
chart (budgets and what is committed of them, ratings by service, …), and the house's own (the audit backlog).

A domain offers a *source*, ``source(session) -> families``: given a session it fills its gauge families;
given None (no database yet) it answers them empty, so their names are always on ``/metrics``. The wiring
lists the sources (``opscenter.plugin.FIGURE_SOURCES``) and the app's lifespan names the database to read:
anything that opens a read transaction (``ReadableDatabase``; OpsCenter's ``Database`` does).

The figures are the same whichever process answers, so every API process reports them in full; dashboards
take ``max without (instance)`` over the targets. A source that fails is logged and skipped for that scrape.
The business figures (``FIGURES``) name departments and their money, so ``/metrics`` serves them only to a scraper
that authenticates with the metrics token (``OPSCENTER_METRICS_TOKEN``); the house's own (``PROCESS_FIGURES``) go to
any scraper, with the process's metrics.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from sqlmodel import Session

from monitoring.metrics import register_business_figures, register_scrape_time

log = logging.getLogger(__name__)

FigureSource = Callable[[Session | None], Iterable[Metric]]


class ReadableDatabase(Protocol):
    """Where the figures are read: ``transaction(write=False)`` opens a read transaction and closes it after."""

    def transaction(self, *, write: bool) -> AbstractContextManager[Session]: ...


class Figures(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: list[FigureSource] = []
        self._databases: list[ReadableDatabase] = []

    def use(self, sources: Sequence[FigureSource]) -> None:
        """The sources to report (the wiring calls this once; again with the same list changes nothing)."""
        with self._lock:
            self._sources = list(sources)

    @contextmanager
    def watching(self, db: ReadableDatabase) -> Iterator[None]:
        """While the block runs, the figures are read from ``db`` (the latest one when several are watched)."""
        with self._lock:
            self._databases.append(db)
        try:
            yield
        finally:
            with self._lock:
                self._databases.remove(db)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            sources = list(self._sources)
            db = self._databases[-1] if self._databases else None
        for source in sources:
            yield from self._read(source, db)

    def _read(self, source: FigureSource, db: ReadableDatabase | None) -> list[Metric]:
        if db is None:
            return list(source(None))
        try:
            with db.transaction(write=False) as session:
                return list(source(session))
        except Exception:
            log.warning("could not read %s for /metrics", getattr(source, "__qualname__", source), exc_info=True)
            return list(source(None))


FIGURES = Figures()
register_business_figures(FIGURES)
PROCESS_FIGURES = Figures()
register_scrape_time(PROCESS_FIGURES)
