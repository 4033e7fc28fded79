from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from opscenter.idempotency import service
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI


def purge_idempotency_keys(session: Session, context: JobContext[Actor]) -> None:
    """Forget Idempotency-Keys older than 24 hours (one DELETE; running it twice deletes nothing more)."""
    service.purge_expired(session, now=context.now)


JOBS = [
    Job(
        id="idempotency.purge",
        description="Forget Idempotency-Keys older than 24 hours",
        trigger=CronTrigger(minute=17, timezone=SHANGHAI),
        run=purge_idempotency_keys,
    ),
]
