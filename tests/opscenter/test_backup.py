"""``opscenter db backup``: a copy taken while writers write is a database of its own, whose audit trail verifies."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from migrations import MIGRATIONS
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrganizationCreate, OrgKind
from opscenter.organizations import service as organizations
from tests.conftest import make_settings


def opscenter(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSCENTER_DATABASE_URL": database_url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "opscenter.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_backup_taken_under_write_load_restores_to_a_trail_that_verifies(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'live.db'}")
    MIGRATIONS.upgrade(settings)
    live = Database(settings)
    stop, written = threading.Event(), list[str]()
    writer_actor = Actor.system("backup-test", "backup-test")

    def write() -> None:  # audited objects, one transaction each, sealed now and then as the job would
        while not stop.is_set():
            with live.transaction(write=True) as session:
                name = f"局{len(written):05d}"
                organizations.create_organization(
                    session, OrganizationCreate(name=name, kind=OrgKind.DEPARTMENT), actor=writer_actor
                )
            written.append(name)
            if len(written) % 20 == 0:
                seal_backlog(live)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 50:
            time.sleep(0.05)
        backup = tmp_path / "backup.db"
        taken = opscenter(settings.database_url, "db", "backup", str(backup))
        written_at_backup = len(written)
        time.sleep(0.3)  # the writer goes on after the copy
    finally:
        stop.set()
        writer.join(timeout=30)
        live.dispose()
    assert taken.returncode == 0, taken.stderr
    assert len(written) > written_at_backup

    restored_path = tmp_path / "restored.db"
    restored_path.write_bytes(backup.read_bytes())  # a SQLite backup restores by being the file
    restored_url = f"sqlite:///{restored_path}"
    verified = opscenter(restored_url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit trail intact" in verified.stdout
    assert opscenter(restored_url, "audit", "seal").returncode == 0
    again = opscenter(restored_url, "audit", "verify")
    assert again.returncode == 0, again.stderr
    assert "0 waiting to be sealed" in again.stdout
    restored = Database(make_settings(restored_url))
    try:
        with restored.transaction(write=False) as session:
            kept = [name for name in written if organizations.find_organization(session, name) is not None]
    finally:
        restored.dispose()
    assert 50 <= len(kept) <= written_at_backup + 1
    assert kept == written[: len(kept)]  # a prefix: nothing torn, nothing out of order


def test_on_postgresql_the_command_says_to_use_pg_dump() -> None:
    refused = opscenter("postgresql://postgres@127.0.0.1:5432/postgres", "db", "backup", "never-written.dump")
    assert refused.returncode == 1
    assert "pg_dump" in refused.stderr
    assert "pg_restore" in refused.stderr
    assert not Path("never-written.dump").exists()
