"""The monthly billing run: on the first of each month (Asia/Shanghai), the month that just ended.

Idempotent by the statements' unique (contract, period): a missed run caught up later, or a second worker,
refreshes drafts and never doubles a statement.
"""

from apscheduler.triggers.cron import CronTrigger

from billing.statements.runs import run_period
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI, Period, business_date


def previous(period: Period) -> Period:
    """The month before ``period``: what a run on its first day bills."""
    return Period(period.year - 1, 12) if period.month == 1 else Period(period.year, period.month - 1)


def run_monthly(db: Database, context: JobContext[Actor]) -> None:
    """Reads and computes with no write transaction open, then writes in short ones (``runs.run``)."""
    run_period(db, period=previous(Period.of(business_date(context.now))), actor=context.actor, now=context.now)


JOBS = [
    Job(
        id="billing.monthly_run",
        description="Generate the draft statements of the month that just ended (Asia/Shanghai)",
        trigger=CronTrigger(day=1, hour=2, minute=0, timezone=SHANGHAI),
        run_steps=run_monthly,
    ),
]
