"""Migration 0004 moves every event's link into audit_seal unchanged: a trail chained on write still verifies."""

import json
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import select

from migrations import MIGRATIONS
from opscenter.audit import service
from opscenter.audit.chain import verify_chain
from opscenter.audit.models import AuditEvent
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database, UTCDateTime
from opscenter.settings import Settings
from tests.conftest import make_settings
from tests.factories import SETUP
from tests.support import postgres_database

# Written by the code before this migration; see "written_by" inside.
LEGACY_TRAIL = json.loads((Path(__file__).parent / "legacy_trail.json").read_text())

# audit_event and its head as the old code wrote them, spelled here so the test needs none of that code.
_metadata = sa.MetaData()
LEGACY_EVENT = sa.Table(
    "audit_event",
    _metadata,
    sa.Column("id", sa.Uuid()),
    sa.Column("seq", sa.BigInteger()),
    sa.Column("occurred_at", UTCDateTime()),
    sa.Column("actor_user_id", sa.Uuid()),
    sa.Column("actor_name", sa.String()),
    sa.Column("actor_organization_id", sa.Uuid()),
    sa.Column("actor_role", sa.String()),
    sa.Column("action", sa.String()),
    sa.Column("object_type", sa.String()),
    sa.Column("object_id", sa.String()),
    sa.Column("changes", sa.JSON()),
    sa.Column("request_id", sa.String()),
    sa.Column("prev_hash", sa.String()),
    sa.Column("hash", sa.String()),
)
LEGACY_HEAD = sa.Table("audit_chain_head", _metadata, sa.Column("id"), sa.Column("seq"), sa.Column("hash"))


def _legacy_row(event: dict[str, Any]) -> dict[str, Any]:
    return {
        **event,
        "id": uuid.UUID(event["id"]),
        "occurred_at": datetime.fromisoformat(event["occurred_at"]),
        "actor_user_id": event["actor_user_id"] and uuid.UUID(event["actor_user_id"]),
        "actor_organization_id": event["actor_organization_id"] and uuid.UUID(event["actor_organization_id"]),
    }


def _before_sealing() -> str:
    """The revision this migration follows, however the history is chained when branches merge."""
    down = ScriptDirectory(str(MIGRATIONS.location)).get_revision("0004").down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
def legacy_database(backend: str, tmp_sqlite_url: str) -> Iterator[Database]:
    """A database at the revision before 0004, holding a trail the old code wrote."""
    with postgres_database("opscenter_legacy") if backend == "postgresql" else nullcontext(tmp_sqlite_url) as url:
        settings = make_settings(url)
        MIGRATIONS.upgrade(settings, _before_sealing())
        database = Database(settings)
        with database.transaction(write=True) as session:
            session.execute(LEGACY_EVENT.insert(), [_legacy_row(event) for event in LEGACY_TRAIL["events"]])
            head = LEGACY_TRAIL["head"]
            session.execute(LEGACY_HEAD.update().values(seq=head["seq"], hash=head["hash"]))
        try:
            yield database
        finally:
            database.dispose()


def test_a_trail_chained_by_the_old_code_verifies_after_the_upgrade(legacy_database: Database) -> None:
    MIGRATIONS.upgrade(legacy_database.settings)
    report = verify_chain(legacy_database)
    with legacy_database.transaction(write=False) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    assert report.intact, report.problems
    assert (report.checked, report.unsealed) == (len(LEGACY_TRAIL["events"]), 0)
    assert [(event.seq, event.prev_hash, event.hash) for event in events] == [
        (event["seq"], event["prev_hash"], event["hash"]) for event in LEGACY_TRAIL["events"]
    ]


def test_new_events_continue_the_migrated_chain(legacy_database: Database) -> None:
    MIGRATIONS.upgrade(legacy_database.settings)
    with legacy_database.transaction(write=True) as session:
        first = session.exec(select(AuditEvent)).first()
        assert first is not None
        service.record_create(session, actor=SETUP, action="audit_event.test", row=first)
    assert seal_backlog(legacy_database) == 1
    report = verify_chain(legacy_database)
    assert report.intact, report.problems
    assert report.checked == len(LEGACY_TRAIL["events"]) + 1


def test_the_downgrade_puts_every_link_back_and_waits_for_the_backlog(legacy_database: Database) -> None:
    settings: Settings = legacy_database.settings
    MIGRATIONS.upgrade(settings)
    with legacy_database.transaction(write=True) as session:
        first = session.exec(select(AuditEvent)).first()
        assert first is not None
        service.record_create(session, actor=SETUP, action="audit_event.test", row=first)
    with pytest.raises(RuntimeError, match="1 audit event"):
        command.downgrade(MIGRATIONS.config(settings), _before_sealing())
    seal_backlog(legacy_database)

    command.downgrade(MIGRATIONS.config(settings), _before_sealing())
    with legacy_database.transaction(write=False) as session:
        links = session.execute(sa.select(LEGACY_EVENT.c.seq, LEGACY_EVENT.c.hash).order_by("seq")).all()
    assert [tuple(link) for link in links[:-1]] == [(event["seq"], event["hash"]) for event in LEGACY_TRAIL["events"]]
    assert links[-1][0] == len(LEGACY_TRAIL["events"]) + 1

    MIGRATIONS.upgrade(settings)
    report = verify_chain(legacy_database)
    assert report.intact, report.problems
    assert report.checked == len(LEGACY_TRAIL["events"]) + 1
