"""A fire drill for the scheduler: jobs every 2 and 3 seconds, loaded by real ``opscenter worker`` and
``opscenter serve`` processes through ``OPSCENTER_SCHEDULER_JOBS=tests.opscenter.drill_jobs:JOBS``.

Each committed run appends ``<job id> <trigger time> <pid>`` to the file named by ``OPSCENTER_DRILL_LOG``,
so a test can count runs per trigger time across processes. The line is written when the run's
transaction commits, as a real job's effects are: a run killed before its commit leaves no line.
"""

import os
from datetime import UTC
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import event
from sqlmodel import Session

from opscenter.identity.actor import Actor
from opscenter.job_runs import latest_fire_time
from opscenter.scheduler import Job, JobContext

LOG_VARIABLE = "OPSCENTER_DRILL_LOG"
TRIGGERS = {
    "drill.every-2s": CronTrigger(second="*/2", timezone=UTC),
    "drill.every-3s": CronTrigger(second="*/3", timezone=UTC),
}


def _drill(job_id: str) -> Job:
    trigger = TRIGGERS[job_id]

    def run(session: Session, context: JobContext[Actor]) -> None:
        fired = latest_fire_time(trigger, context.now)
        assert fired is not None
        line = f"{job_id} {fired.isoformat()} {os.getpid()}\n"

        def committed(_: Session) -> None:
            with Path(os.environ[LOG_VARIABLE]).open("a") as log:
                log.write(line)

        event.listen(session, "after_commit", committed, once=True)

    return Job(id=job_id, description="fire drill", trigger=trigger, run=run)


JOBS = [_drill(job_id) for job_id in TRIGGERS]


def runs(path: Path) -> list[tuple[str, str, int]]:
    """The drill's log: (job id, trigger time, pid) per committed run."""
    if not path.exists():
        return []
    return [(job, fired, int(pid)) for job, fired, pid in (line.split() for line in path.read_text().splitlines())]
