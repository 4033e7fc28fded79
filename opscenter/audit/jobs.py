from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitoring.metrics import AUDIT_CHAIN_INTACT, AUDIT_EVENTS_VERIFIED
from opscenter.audit import service
from opscenter.audit.checkpoints import check_against_newest, sign_head, signing_key
from opscenter.audit.sequencer import SEAL_LIMIT, SEAL_STEP, seal_backlog
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI


def verify_audit_chain(db: Database, context: JobContext[Actor]) -> None:
    """Nightly tamper check, in short read transactions; alert on ``opscenter_audit_chain_intact == 0``."""
    report = service.verify_chain(db)
    problems = list(report.problems)
    key = signing_key(db.settings)
    if key is not None:  # and against the newest signed head: a rewrite below it shows here too
        problems += check_against_newest(db, key.public_key()).problems
    AUDIT_CHAIN_INTACT.set(0 if problems else 1)
    AUDIT_EVENTS_VERIFIED.set(report.checked)
    for problem in problems:
        service.log.error("audit chain: %s", problem)


def seal_audit_events(db: Database, context: JobContext[Actor]) -> None:
    """The sequencer's tick: chain the audit events committed since the last one, ``SEAL_STEP`` to a transaction."""
    seal_backlog(db, limit=SEAL_STEP, most=SEAL_LIMIT)


def checkpoint_audit_chain(db: Database, context: JobContext[Actor]) -> None:
    """Sign the chain's head with the key kept outside the database (opscenter/audit/checkpoints.py)."""
    key = signing_key(db.settings)
    if key is None:
        service.log.warning(
            "audit.checkpoint: no signing key (OPSCENTER_AUDIT_SIGNING_KEY_FILE): the audit chain's head is not "
            "signed, so a rewrite by whoever can write the database would go unseen; see `opscenter audit keygen`"
        )
        return
    sign_head(db, key)


VERIFY_JOB = Job(
    id="audit.verify",
    description="Verify the audit trail's hash chain",
    trigger=CronTrigger(hour=3, minute=30, timezone=SHANGHAI),
    run_steps=verify_audit_chain,
)
# The sequencer: one run at a time under the scheduler's advisory lock (and the chain head's row lock).
SEAL_JOB = Job(
    id="audit.seal",
    description="Seal committed audit events into the hash chain",
    trigger=IntervalTrigger(seconds=1),
    run_steps=seal_audit_events,
)
# Hourly, a few minutes past the hour: a rewrite is then visible against a checkpoint at most an hour old.
CHECKPOINT_JOB = Job(
    id="audit.checkpoint",
    description="Sign the audit chain's head with the key kept outside the database",
    trigger=CronTrigger(minute=7, timezone=SHANGHAI),
    run_steps=checkpoint_audit_chain,
)
JOBS = [VERIFY_JOB, SEAL_JOB, CHECKPOINT_JOB]
