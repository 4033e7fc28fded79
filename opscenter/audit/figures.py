"""The audit trail on /metrics, read from the database when scraped (a ``monitoring.figures`` source): how many
committed events wait for their seal, and how long the oldest has waited (one query serves both).

Read at scrape time rather than set by the seal job, so every process reports the truth: a stopped sequencer
shows as a growing lag, and a worker that skipped its turn shows no stale figure. The API processes report it
with the business figures, a worker alone (it runs the sequencer): see ``opscenter.plugin``.
"""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session

from opscenter.audit.sequencer import backlog
from opscenter.timekeeping import utcnow


def figures(session: Session | None) -> Iterable[Metric]:
    unsealed = GaugeMetricFamily(
        "opscenter_audit_unsealed_events",
        "Audit events committed but not yet sealed into the hash chain (read from the database when scraped)",
    )
    lag = GaugeMetricFamily(
        "opscenter_audit_seal_lag_seconds",
        "Age of the oldest audit event still waiting for its seal; 0 when every event is sealed",
    )
    if session is not None:
        found = backlog(session)
        unsealed.add_metric([], float(found.events))
        lag.add_metric([], found.lag_seconds(utcnow()))
    return [unsealed, lag]
