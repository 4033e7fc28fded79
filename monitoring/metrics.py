"""prometheus-client objects, in one place, all named ``opscenter_…``.

HTTP request metrics come from Litestar's Prometheus middleware (prefix ``opscenter_http``, paths
grouped by route template so ids never explode the label space); these are the rest.

Under ``opscenter serve --workers N`` every API process writes its samples to a shared directory
(prometheus-client multiprocess mode, see ``monitoring/multiprocess.py``) and ``/metrics`` on any process
sums them: counters and histograms add up; each gauge says how with ``multiprocess_mode``.
"""

import platform

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info
from prometheus_client.registry import Collector

HTTP_METRICS_PREFIX = "opscenter_http"

BUILD_INFO = Info("opscenter_build", "Version of the running OpsCenter")


def record_build(version: str) -> None:
    """Say on ``/metrics`` which version runs, on which Python (the wiring tells, once per process)."""
    BUILD_INFO.info({"version": version, "python": platform.python_version()})


# The job's id is the label ``task``, never ``job``: Prometheus writes its scrape job into ``job`` (and the target
# into ``instance``) and renames ours to ``exported_job``, so dashboards and alerts would read "opscenter" instead.
RESERVED_LABELS = frozenset({"job", "instance"})
JOB_RUNS = Counter(
    "opscenter_job_runs_total",
    "Scheduled job runs by task (the job's id) and outcome (ok, failed, skipped when another worker holds the job)",
    ["task", "outcome"],
)
JOB_LAST_SUCCESS = Gauge(
    "opscenter_job_last_success_timestamp_seconds",
    "When each job (label task, the job's id) last finished successfully",
    ["task"],
    multiprocess_mode="max",
)
AUDIT_CHAIN_INTACT = Gauge(
    "opscenter_audit_chain_intact",
    "1 when the last audit-chain verification found no tampering, else 0",
    multiprocess_mode="mostrecent",
)
AUDIT_EVENTS_VERIFIED = Gauge(
    "opscenter_audit_events_verified",
    "Number of audit events checked by the last verification",
    multiprocess_mode="mostrecent",
)

# Refused credentials (opscenter/ratelimits/middleware.py): every 401, by reason (missing, invalid); alert on a
# spike (monitoring/rules/opscenter.yml, OpsCenterAuthRefusalSpike). Never labelled by key, user or address.
AUTH_REFUSED = Counter(
    "opscenter_auth_refused_total",
    "Requests refused for their credential (401), by reason: missing (none sent) or invalid (unknown, revoked, "
    "expired, malformed)",
    ["reason"],
)

# Scale-out: who runs the jobs. Every process that may run them (each `worker`, each `serve` without
# --no-scheduler) is a candidate; exactly one leads. Alert when sum(opscenter_scheduler_leader) != 1.
SCHEDULER_LEADER = Gauge(
    "opscenter_scheduler_leader",
    "1 while this process leads the scheduler (runs the jobs), 0 while it stands by",
    multiprocess_mode="livesum",
)
SCHEDULER_ELECTIONS = Counter("opscenter_scheduler_elections_total", "Times a process became the scheduler's leader")
JOB_MISSED_RUNS = Counter(
    "opscenter_job_missed_runs_total",
    "Runs caught up when a leader took over: the job's last trigger time had passed with no run recorded",
    ["task"],
)
DATABASE_UP = Gauge(
    "opscenter_database_up",
    "1 while this process reaches the database (primary; replica when one is set, else no series), else 0; "
    "updated by /ready and, for the replica, when a list read fails over to the primary",
    ["database"],
    multiprocess_mode="livemin",
)

# Figures read from the database when /metrics is scraped (the audit trail's sealing backlog, …): the same
# whichever process answers, so they are not summed across processes but added by the one that answers.
SCRAPE_TIME_COLLECTORS: list[Collector] = []


def register_scrape_time(collector: Collector) -> None:
    """Serve ``collector``'s figures on /metrics, read at scrape time, in one process or several."""
    REGISTRY.register(collector)
    SCRAPE_TIME_COLLECTORS.append(collector)


# Business figures (budgets and spend by department, ratings, SLA, tickets, statements: monitoring/figures.py),
# read at scrape time too, but kept out of the default registry: /metrics serves them only to a scraper that
# sends the metrics token, and a worker's --metrics-port never serves them.
BUSINESS_COLLECTORS: list[Collector] = []
BUSINESS_FIGURES_SERVED = "opscenter_metrics_business_figures"


def register_business_figures(collector: Collector) -> None:
    """Serve ``collector``'s figures on /metrics to an authenticated scraper only."""
    BUSINESS_COLLECTORS.append(collector)


# The SLA pull (sla/measurements): alert when it goes stale or fails (monitoring/rules/sla.yml).
SLA_PULL_LAST_SUCCESS = Gauge(
    "opscenter_sla_pull_last_success_timestamp_seconds",
    "When the SLA pull last finished without a failure",
    multiprocess_mode="max",
)
SLA_PULL_DURATION = Gauge(
    "opscenter_sla_pull_duration_seconds", "How long the last SLA pull took", multiprocess_mode="mostrecent"
)
SLA_PULL_DAYS = Counter("opscenter_sla_pull_days_measured_total", "Instance-days measured and written")
SLA_PULL_FAILURES = Counter(
    "opscenter_sla_pull_failures_total",
    "SLA pulls that stopped on a failed day (nothing written for it), by kind: unreachable, timeout, "
    "server_error, refused, malformed, partial, not_a_number",
    ["kind"],
)


# Tickets (operations/tickets): breaches as they are recorded, each once; the minute sweep's duration. Open
# tickets by priority and state are read from the database when scraped (operations/tickets/figures.py).
TICKET_BREACHES = Counter(
    "opscenter_ticket_breaches_total",
    "SLA breaches recorded on tickets, by kind (response, resolution); each breach counts once",
    ["kind"],
)
TICKET_SWEEP_SECONDS = Histogram(
    "opscenter_ticket_sweep_seconds",
    "Duration of the ticket sweep (breaches, escalations, auto-close)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
