"""`opscenter audit verify` checks the sealed chain and names whatever was edited, deleted or cut off."""

import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from opscenter.audit.chain import verify_chain
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from opscenter.settings import Settings
from tests.factories import World
from tests.opscenter.audit.steps import as_intruder, cut_sealed, opscenter_audit, seals

# the world: 4 organizations, 7 users, 7 keys
WORLD_EVENTS = 18


@pytest.fixture
def sealed_world(world: World, db: Database) -> World:
    assert seal_backlog(db) == WORLD_EVENTS
    return world


def _problems(db: Database) -> str:
    """What ``opscenter audit verify`` prints on stderr, one problem a line (in-process: a CLI start is slow)."""
    return "\n".join(verify_chain(db).problems)


def test_verify_reports_the_unsealed_backlog(world: World, db: Database) -> None:
    report = verify_chain(db)
    assert report.intact
    assert report.checked == 0
    assert report.unsealed == WORLD_EVENTS
    assert report.oldest_unsealed_at is not None


def test_seal_and_verify_from_the_command_line(world: World, settings: Settings) -> None:
    sealing = opscenter_audit(settings, "seal")
    assert sealing.returncode == 0, sealing.stderr
    assert f"sealed {WORLD_EVENTS} audit events" in sealing.stdout
    result = opscenter_audit(settings, "verify")
    assert result.returncode == 0, result.stderr
    assert f"intact: {WORLD_EVENTS} events verified; 0 waiting to be sealed" in result.stdout


def test_verify_from_the_command_line_exits_1_naming_the_tampering(
    sealed_world: World, db: Database, settings: Settings
) -> None:
    cut_sealed(db, "seq = 5")
    result = opscenter_audit(settings, "verify")
    assert result.returncode == 1
    assert "TAMPERED: events 5..5 are missing: deleted from the trail" in result.stderr


def test_verify_names_an_edited_event(sealed_world: World, db: Database) -> None:
    as_intruder(
        db,
        "UPDATE audit_event SET actor_name = 'someone else' WHERE id = (SELECT event_id FROM audit_seal WHERE seq = 3)",
    )
    problems = _problems(db)
    assert re.search(r"event 3 \(\S+\) was altered", problems)


def test_verify_names_an_edited_seal(sealed_world: World, db: Database) -> None:
    as_intruder(db, "UPDATE audit_seal SET hash = :forged WHERE seq = 7", forged="f" * 64)
    problems = _problems(db)
    assert re.search(r"event 7 \(\S+\) was altered", problems)
    assert re.search(r"event 8 \(\S+\) does not follow the event before it", problems)


def test_verify_names_a_deleted_event(sealed_world: World, db: Database) -> None:
    cut_sealed(db, "seq = 5")
    problems = _problems(db)
    assert "events 5..5 are missing" in problems
    assert re.search(r"event 6 \(\S+\) does not follow the event before it", problems)


def test_verify_names_an_event_whose_seal_was_deleted(sealed_world: World, db: Database) -> None:
    as_intruder(db, "DELETE FROM audit_seal WHERE seq = 9")
    problems = _problems(db)
    assert "events 9..9 are missing" in problems
    assert "1 event(s) are neither sealed nor waiting to be sealed" in problems
    seal_backlog(db)
    assert len(seals(db)) == WORLD_EVENTS - 1, "the sequencer never re-seals an event that left the queue"


def test_verify_notices_events_cut_from_the_end(sealed_world: World, db: Database) -> None:
    cut_sealed(db, "seq > 15")
    problems = _problems(db)
    assert "the trail ends at event 15 but its head records event 18" in problems


@pytest.mark.postgresql_only  # SQLite's foreign keys refuse to orphan a seal outright
def test_verify_names_a_deleted_event_whose_seal_remains(sealed_world: World, db: Database) -> None:
    as_intruder(db, "DELETE FROM audit_event WHERE id = (SELECT event_id FROM audit_seal WHERE seq = 4)")
    problems = _problems(db)
    assert re.search(r"event 4 \(\S+\) is missing: deleted from the trail", problems)


@pytest.mark.postgresql_only  # SQLite has no such triggers; there the hash chain (above) is the protection
def test_postgresql_refuses_to_change_or_delete_events_and_seals(world: World, db: Database) -> None:
    seal_backlog(db)
    for statement in (
        "UPDATE audit_event SET actor_name = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event CASCADE",
        "UPDATE audit_seal SET hash = prev_hash",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction(write=True) as session:
            session.execute(text(statement))


@pytest.mark.postgresql_only
def test_postgresql_lets_an_event_leave_the_queue_only_once_sealed(world: World, db: Database) -> None:
    for statement in (
        "DELETE FROM audit_queue",
        "UPDATE audit_queue SET event_id = event_id",
        "TRUNCATE audit_queue",
    ):
        with pytest.raises(DBAPIError, match="only once it is sealed"), db.transaction(write=True) as session:
            session.execute(text(statement))
    assert seal_backlog(db) == WORLD_EVENTS, "the sequencer's own deletions pass"
