"""The sequencer: seals committed audit events into the hash chain, as transparency logs do.

Requests only queue their events (``opscenter.audit.service``), so no two requests wait for each
other on the audit trail. The ``audit.seal`` job (every second, under the scheduler's advisory lock)
or ``opscenter audit seal`` then takes the queued events that have committed, in id order (UUIDv7,
so the order they were written), and gives each its ``seq``, ``prev_hash`` and ``hash``.

Safe when two run at once and when run twice: a sequencer locks the chain's head row before it
reads the queue, so a second one waits and then sees the first one's seals; the seal's primary key
(one seal per event) and unique ``seq`` (no fork) refuse a double seal whatever happens; a step of
``SEAL_STEP`` events is one transaction, so a crash mid-seal rolls that step back whole and its events
stay queued for the next run. Steps are short because on SQLite each holds the write lock every request
that writes needs: a backlog (the demo's, a bulk import's) is sealed a step at a time, and a request
waits for one step at most.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import Session, col, func, select

from opscenter.audit.chain import event_hash, recipe_for
from opscenter.audit.models import AuditChainHead, AuditEvent, AuditQueueEntry, AuditSeal
from opscenter.db import Database

log = logging.getLogger(__name__)

SEAL_BATCH = 1000  # events per statement
# Events per transaction: about 0.1 s on SQLite (0.2-0.3 ms an event), the most a request's write waits for it.
SEAL_STEP = 500
SEAL_LIMIT = 20_000  # events per run: a run every second keeps far ahead of any write rate we have seen


def seal(session: Session, *, limit: int = SEAL_LIMIT) -> int:
    """Seal up to ``limit`` committed, queued events, oldest id first; returns how many. The caller commits."""
    if session.exec(select(AuditQueueEntry.event_id).limit(1)).first() is None:
        return 0  # nothing to do: no row lock, nothing written
    head = session.exec(select(AuditChainHead).with_for_update().execution_options(populate_existing=True)).one()
    sealed = 0
    while sealed < limit:
        queued = session.exec(
            select(AuditEvent)
            .join(AuditQueueEntry, col(AuditQueueEntry.event_id) == col(AuditEvent.id))
            .order_by(col(AuditQueueEntry.event_id))
            .limit(min(SEAL_BATCH, limit - sealed))
        ).all()
        if not queued:
            break
        seals = []
        for event in queued:
            if event.seal is not None:  # a queue entry put back by hand: drop it, never seal twice
                log.warning("audit event %s was queued again after its seal; dropping the entry", event.id)
                continue
            recipe = recipe_for(event)
            digest = event_hash(event, seq=head.seq + 1, prev_hash=head.hash, recipe=recipe)
            seals.append(
                {
                    "event_id": event.id,
                    "seq": head.seq + 1,
                    "prev_hash": head.hash,
                    "hash": digest,
                    "recipe": recipe,
                }
            )
            head.seq, head.hash = head.seq + 1, digest
        if seals:
            session.execute(insert(AuditSeal), seals)
        session.execute(
            delete(AuditQueueEntry).where(col(AuditQueueEntry.event_id).in_([event.id for event in queued]))
        )
        sealed += len(seals)
        for event in queued:
            session.expunge(event)
    session.add(head)
    session.flush()
    return sealed


def seal_backlog(db: Database, *, limit: int = SEAL_STEP, most: int | None = None) -> int:
    """Seal every event committed so far (or ``most`` of them, give or take a step), one transaction per ``limit``
    events; returns how many.

    What the ``audit.seal`` job and ``opscenter audit seal`` run, and what a test calls before it reads ``seq`` or
    verifies.
    """
    total = 0
    while most is None or total < most:
        with db.transaction(write=True) as session:
            sealed = seal(session, limit=limit)
        total += sealed
        if sealed < limit:
            break
    return total


@dataclass(frozen=True)
class Backlog:
    """Committed events waiting for their seal."""

    events: int
    oldest_at: datetime | None

    def lag_seconds(self, now: datetime) -> float:
        """How long the oldest waiting event has waited; 0 when none waits."""
        return 0.0 if self.oldest_at is None else max(0.0, (now - self.oldest_at).total_seconds())


def backlog(session: Session) -> Backlog:
    """The queue's length and its oldest event: one query over the (small) queue."""
    events, oldest = session.exec(
        select(func.count(), func.min(col(AuditEvent.occurred_at)))
        .select_from(AuditQueueEntry)
        .join(AuditEvent, col(AuditEvent.id) == col(AuditQueueEntry.event_id))
    ).one()
    return Backlog(events=events, oldest_at=oldest)
