"""What the audit tests do again and again: run the CLI, read the chain, act as an intruder."""

import os
import subprocess
import sys
import uuid
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import col, select

from opscenter.audit.models import AuditEvent, AuditQueueEntry, AuditSeal
from opscenter.db import Database
from opscenter.settings import Settings


def opscenter_audit(settings: Settings, command: str) -> subprocess.CompletedProcess[str]:
    """``opscenter audit <command>`` as an operator runs it: a real process against the test database."""
    env = {**os.environ, "OPSCENTER_DATABASE_URL": settings.database_url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "opscenter.cli", "audit", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def seals(db: Database) -> list[AuditSeal]:
    """The sealed chain, by seq."""
    with db.transaction(write=False) as session:
        return list(session.exec(select(AuditSeal).order_by(col(AuditSeal.seq))).all())


def event_ids(db: Database) -> set[uuid.UUID]:
    with db.transaction(write=False) as session:
        return set(session.exec(select(AuditEvent.id)).all())


def queued(db: Database) -> int:
    with db.transaction(write=False) as session:
        return len(session.exec(select(AuditQueueEntry.event_id)).all())


def as_intruder(db: Database, *statements: str, **params: Any) -> None:
    """What someone with direct database access could do (on PostgreSQL, a superuser bypassing the triggers)."""
    with db.transaction(write=True) as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            session.execute(text(statement), params)


def cut_sealed(db: Database, where: str) -> None:
    """Delete sealed events and their seals, ``where`` naming the seals (e.g. ``seq > 15``)."""
    with db.transaction(write=False) as session:
        ids = list(session.exec(select(AuditSeal.event_id).where(text(where))).all())
    with db.transaction(write=True) as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        # Seals first: SQLite checks the foreign key at once.
        session.execute(delete(AuditSeal).where(col(AuditSeal.event_id).in_(ids)))
        session.execute(delete(AuditEvent).where(col(AuditEvent.id).in_(ids)))
