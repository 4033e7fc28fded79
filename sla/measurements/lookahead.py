"""Asking Prometheus ahead: the whole-day queries of the next days, in a background thread, while the database
works out which lines are in force and writes the day before.

A query's text pins its window (``@``), so an answer fetched ahead is the answer the day would get asking then.
Only days without any measurement are asked ahead (a day already measured would mostly waste the queries), at
most ``depth`` days ahead (answers wait in memory). Requests go one at a time, in day order, as without it.
"""

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from types import TracebackType
from typing import Self

from monitoring.promql import PrometheusClient, Sample


class Lookahead:
    def __init__(self, prometheus: PrometheusClient, ahead: Mapping[date, Sequence[str]], *, depth: int = 2) -> None:
        self.prometheus = prometheus
        self.days = sorted(ahead)
        self.ahead = ahead
        self.depth = depth
        self.submitted = 0  # how many of self.days have their queries submitted
        self.futures: dict[str, Future[list[Sample]]] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sla-pull-ahead")

    def __enter__(self) -> Self:
        self._fill(None)
        return self

    def reach(self, day: date) -> None:
        """``day`` is being measured: keep the queries of the days up to ``depth`` after it asked."""
        self._fill(day)

    def vector(self, query: str) -> list[Sample]:
        """The answer asked ahead, or asked now; a failure raises as it would have."""
        future = self.futures.pop(query, None)
        return future.result() if future is not None else self.prometheus.vector(query)

    def _fill(self, day: date | None) -> None:
        position = 0 if day is None else sum(1 for known in self.days if known <= day)
        while self.submitted < len(self.days) and self.submitted < position + self.depth:
            for query in self.ahead[self.days[self.submitted]]:
                self.futures.setdefault(query, self.executor.submit(self.prometheus.vector, query))
            self.submitted += 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # a failed day stops the pull: what was not sent is not sent, what is in flight is waited for
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.futures.clear()
