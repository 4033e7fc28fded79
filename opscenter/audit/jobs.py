from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from monitoring.metrics import AUDIT_CHAIN_INTACT, AUDIT_EVENTS_VERIFIED
from opscenter.audit import service
from opscenter.audit.sequencer import seal
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI


def verify_audit_chain(session: Session, context: JobContext[Actor]) -> None:
    """Nightly tamper check; alert on ``opscenter_audit_chain_intact == 0``."""
    report = service.verify_chain(session)
    AUDIT_CHAIN_INTACT.set(1 if report.intact else 0)
    AUDIT_EVENTS_VERIFIED.set(report.checked)
    for problem in report.problems:
        service.log.error("audit chain: %s", problem)


def seal_audit_events(session: Session, context: JobContext[Actor]) -> None:
    """The sequencer's tick: chain every audit event committed since the last one."""
    seal(session)


VERIFY_JOB = Job(
    id="audit.verify",
    description="Verify the audit trail's hash chain",
    trigger=CronTrigger(hour=3, minute=30, timezone=SHANGHAI),
    run=verify_audit_chain,
    writes=False,
)
# The sequencer: one run at a time under the scheduler's advisory lock (and the chain head's row lock).
SEAL_JOB = Job(
    id="audit.seal",
    description="Seal committed audit events into the hash chain",
    trigger=IntervalTrigger(seconds=1),
    run=seal_audit_events,
)
JOBS = [VERIFY_JOB, SEAL_JOB]
