"""The hourly pull: every complete Asia/Shanghai day within the horizon not measured yet, for every instance."""

import logging

from apscheduler.triggers.cron import CronTrigger

from monitoring.promql import PrometheusClient
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.settings import get_settings
from opscenter.timekeeping import SHANGHAI
from sla.measurements import notices
from sla.measurements.pull import horizon, pull

log = logging.getLogger(__name__)


def pull_measurements(db: Database, context: JobContext[Actor]) -> None:
    """Measure what is due. A failed day writes nothing and stops the run (the next hour retries it); the days
    measured before it are kept. No transaction is open while Prometheus is asked (``pull``)."""
    settings = get_settings()
    with PrometheusClient(settings.prometheus) as prometheus:
        result = pull(db, prometheus, horizon(context.now, settings), now=context.now)
    if result.failed_day is not None:
        with db.transaction(write=True) as session:
            notices.tell_pull_failing(session, result.failed_day, str(result.failure), actor=context.actor)
    if result.measured:
        log.info("SLA pull: %d instance-days over %d days, %d requests", result.measured, len(result.days),
                 result.requests)  # fmt: skip


JOBS = [
    Job(
        id="sla.pull_measurements",
        description="Measure every complete day of every service instance's SLI from Prometheus",
        trigger=CronTrigger(minute=20, timezone=SHANGHAI),
        run_steps=pull_measurements,
    ),
]
