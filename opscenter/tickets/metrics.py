"""Open tickets by priority and state on /metrics, read from the database when scraped.

Read at scrape time rather than kept by the process that changed them, so every process (and every
``serve --workers N`` process) reports the same truth. One GROUP BY over the open tickets.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session, col, func, select

from contracts.terms import Priority
from monitoring.metrics import register_scrape_time
from opscenter.db import Database
from opscenter.tickets.models import OPEN, Ticket

log = logging.getLogger(__name__)


def open_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many tickets are open, by (priority, status)."""
    rows = session.exec(
        select(Ticket.priority, Ticket.status, func.count())
        .where(col(Ticket.status).in_(OPEN))
        .group_by(col(Ticket.priority), col(Ticket.status))
    ).all()
    return {(str(priority), str(status)): count for priority, status, count in rows}


class _OpenTickets(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._databases: list[Database] = []

    @contextmanager
    def watching(self, db: Database) -> Iterator[None]:
        with self._lock:
            self._databases.append(db)
        try:
            yield
        finally:
            with self._lock:
                self._databases.remove(db)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "opscenter_tickets_open", "Open tickets (not closed) by priority and state", labels=["priority", "state"]
        )
        counts = self._current()
        if counts is not None:
            for priority in Priority:
                for status in OPEN:
                    family.add_metric([priority.value, status.value], counts.get((priority.value, status.value), 0))
        yield family

    def _current(self) -> dict[tuple[str, str], int] | None:
        with self._lock:
            if not self._databases:
                return None
            db = self._databases[-1]
        try:
            with db.transaction(write=False) as session:
                return open_counts(session)
        except Exception:
            log.warning("could not count open tickets for /metrics", exc_info=True)
            return None


_OPEN = _OpenTickets()
register_scrape_time(_OPEN)


def open_tickets_on_metrics(db: Database) -> AbstractContextManager[None]:
    """While the block runs, /metrics reports ``db``'s open tickets (the app uses it)."""
    return _OPEN.watching(db)
