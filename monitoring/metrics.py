"""prometheus-client objects, in one place, all named ``opscenter_…``.

HTTP request metrics come from Litestar's Prometheus middleware (prefix ``opscenter_http``, paths
grouped by route template so ids never explode the label space); these are the rest.
"""

import platform

from prometheus_client import Counter, Gauge, Info

import opscenter

HTTP_METRICS_PREFIX = "opscenter_http"

BUILD_INFO = Info("opscenter_build", "Version of the running OpsCenter")
BUILD_INFO.info({"version": opscenter.__version__, "python": platform.python_version()})

JOB_RUNS = Counter(
    "opscenter_job_runs_total",
    "Scheduled job runs by outcome (ok, failed, skipped when another worker holds the job)",
    ["job", "outcome"],
)
JOB_LAST_SUCCESS = Gauge(
    "opscenter_job_last_success_timestamp_seconds", "When each job last finished successfully", ["job"]
)
AUDIT_CHAIN_INTACT = Gauge(
    "opscenter_audit_chain_intact", "1 when the last audit-chain verification found no tampering, else 0"
)
AUDIT_EVENTS_VERIFIED = Gauge(
    "opscenter_audit_events_verified", "Number of audit events checked by the last verification"
)
AUDIT_UNSEALED_EVENTS = Gauge(
    "opscenter_audit_unsealed_events",
    "Audit events committed but not yet sealed into the hash chain (read from the database when scraped)",
)
AUDIT_SEAL_LAG = Gauge(
    "opscenter_audit_seal_lag_seconds",
    "Age of the oldest audit event still waiting for its seal; 0 when every event is sealed",
)
