from apscheduler.triggers.cron import CronTrigger

from opscenter.db import Database
from opscenter.idempotency import service
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI

# Keys forgotten per write transaction: an hour of busy integrations is tens of thousands of keys, and one DELETE of
# them all would hold SQLite's write lock (which every request that writes needs) for seconds.
PURGE_STEP = 1000


def purge_idempotency_keys(db: Database, context: JobContext[Actor]) -> int:
    """Forget Idempotency-Keys older than 24 hours, ``PURGE_STEP`` to a transaction (running it twice deletes nothing
    more; a run stopped half-way leaves the rest for the next). Returns how many."""
    purged = 0
    while True:
        with db.transaction(write=True) as session:
            step = service.purge_expired(session, now=context.now, limit=PURGE_STEP)
        purged += step
        if step < PURGE_STEP:
            return purged


JOBS = [
    Job(
        id="idempotency.purge",
        description="Forget Idempotency-Keys older than 24 hours",
        trigger=CronTrigger(minute=17, timezone=SHANGHAI),
        run_steps=purge_idempotency_keys,
    ),
]
