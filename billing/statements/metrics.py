"""Billing on /metrics, read from the database when scraped: statements by state, and the billed, deducted and
payable amounts of the last 24 periods (a bounded label set)."""

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from billing.statements.models import Statement, StatementStatus
from monitoring.metrics import register_scrape_time
from opscenter.db import Database, core_table

log = logging.getLogger(__name__)
PERIODS = 24


class _BillingGauges(Collector):
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
        by_state = GaugeMetricFamily("opscenter_statements", "Statements by state", labels=["state"])
        amounts = GaugeMetricFamily(
            "opscenter_billing_amount_yuan",
            "Per period: base billed, deducted, and the amount of its statements (draft ones included), yuan",
            labels=["period", "kind"],
        )
        figures = self._read()
        if figures is not None:
            counts, periods = figures
            for state in StatementStatus:
                by_state.add_metric([state.value], float(counts.get(state.value, 0)))
            for period, base, deduction, amount in periods:
                for kind, fen in (("base", base), ("deduction", deduction), ("amount", amount)):
                    amounts.add_metric([period, kind], int(fen or 0) / 100)
        yield by_state
        yield amounts

    def _read(self) -> tuple[dict[str, int], list[tuple[str, int, int, int]]] | None:
        with self._lock:
            if not self._databases:
                return None
            db = self._databases[-1]
        table = core_table(Statement)
        try:
            with db.transaction(write=False) as session:
                connection = session.connection()
                counts: dict[str, int] = dict(
                    connection.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
                )
                sums = (
                    select(table.c.period, func.sum(table.c.base_fen), func.sum(table.c.deduction_fen),
                           func.sum(table.c.amount_fen))
                    .group_by(table.c.period)
                    .order_by(table.c.period.desc())
                    .limit(PERIODS)
                )  # fmt: skip
                return counts, [(row[0], row[1], row[2], row[3]) for row in connection.execute(sums)]
        except Exception:
            log.warning("could not read billing figures for /metrics", exc_info=True)
            return None


_GAUGES = _BillingGauges()
register_scrape_time(_GAUGES)


def billing_on_metrics(db: Database) -> AbstractContextManager[None]:
    """While the block runs, /metrics reports ``db``'s statements (the app uses it)."""
    return _GAUGES.watching(db)
