"""An audit trail its own database admin cannot rewrite unseen: events name the client address and the credential
(both in the hash), the chain's head is signed with a key outside the database, and an export verifies offline."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import col, select

from opscenter.audit.chain import event_hash
from opscenter.audit.checkpoints import generate_key_pair, published, sign_head
from opscenter.audit.models import AuditChainHead, AuditCheckpointPublic, AuditEvent, AuditSeal
from opscenter.audit.sequencer import seal_backlog
from opscenter.audit.service import verify_chain
from opscenter.db import Database
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import World
from tests.opscenter.audit.steps import as_intruder
from tests.opscenter.audit.verify_by_the_recipe import verify_export_by_the_recipe


def opscenter(settings: Settings, *args: str, key_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSCENTER_DATABASE_URL": settings.database_url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    env.pop("OPSCENTER_AUDIT_SIGNING_KEY", None)
    if key_file is not None:
        env["OPSCENTER_AUDIT_SIGNING_KEY_FILE"] = str(key_file)
    return subprocess.run(
        [sys.executable, "-m", "opscenter.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private_pem, public_pem = generate_key_pair()
    (tmp_path / "signing.pem").write_bytes(private_pem)
    (tmp_path / "public.pem").write_bytes(public_pem)
    return tmp_path / "signing.pem", tmp_path / "public.pem"


def _audited_changes(world: World, api: ApiFactory) -> str:
    """Two audited changes by the admin's key; returns the key's id."""
    admin = api.as_(world.admin)
    created = admin.post("/api/v1/api-keys", {"name": "ci", "user_id": str(world.operator.user_id)})
    assert created.status_code == 201, created.text
    assert admin.act(f"/api/v1/api-keys/{created.json()['id']}", "revoke").status_code == 200
    keys = admin.get("/api/v1/api-keys", params={"limit": 200}).json()["items"]
    return str(next(key["id"] for key in keys if key["user_id"] == str(world.admin.user_id)))


def test_an_event_names_the_client_address_and_the_credential_never_the_secret(
    world: World, api: ApiFactory, db: Database
) -> None:
    admin_key_id = _audited_changes(world, api)
    events = api.as_(world.auditor).get("/api/v1/audit-events", params={"action": "api_key.revoke"}).json()["items"]
    assert events[0]["client_address"] == "127.0.0.1"
    assert events[0]["credential_kind"] == "api_key"
    assert events[0]["credential_id"] == admin_key_id
    assert world.admin.key not in json.dumps(events)


def test_editing_the_address_or_credential_of_a_sealed_event_shows(world: World, api: ApiFactory, db: Database) -> None:
    _audited_changes(world, api)
    seal_backlog(db)
    with db.transaction(write=False) as session:
        seal = session.exec(select(AuditSeal).order_by(col(AuditSeal.seq).desc())).first()
    assert seal is not None
    assert seal.recipe == 2
    as_intruder(
        db,
        "UPDATE audit_event SET client_address = '10.6.6.6' "
        "WHERE id = (SELECT event_id FROM audit_seal WHERE seq = :seq)",
        seq=seal.seq,
    )
    report = verify_chain(db)
    assert any("was altered" in problem for problem in report.problems)


def _rechain(db: Database) -> None:
    """What an admin with the database and the source could do: recompute every hash after an edit."""
    with db.transaction(write=False) as session:
        rows = session.exec(
            select(AuditSeal, AuditEvent)
            .join(AuditEvent, col(AuditEvent.id) == col(AuditSeal.event_id))
            .order_by(col(AuditSeal.seq))
        ).all()
        session.expunge_all()
    previous = "0" * 64
    for seal, event in rows:
        digest = event_hash(event, seq=seal.seq, prev_hash=previous, recipe=seal.recipe)
        as_intruder(
            db,
            "UPDATE audit_seal SET prev_hash = :prev, hash = :hash WHERE seq = :seq",
            prev=previous,
            hash=digest,
            seq=seal.seq,
        )
        previous = digest
    as_intruder(db, "UPDATE audit_chain_head SET hash = :hash", hash=previous)


def test_a_chain_rewritten_below_its_signed_checkpoint_fails_verification(
    world: World, api: ApiFactory, db: Database, settings: Settings, keys: tuple[Path, Path]
) -> None:
    signing, _ = keys
    _audited_changes(world, api)
    seal_backlog(db)
    signed = opscenter(settings, "audit", "checkpoint", key_file=signing)
    assert signed.returncode == 0, signed.stderr
    intact = opscenter(settings, "audit", "verify", key_file=signing)
    assert intact.returncode == 0, intact.stderr
    assert "signed checkpoint at event" in intact.stdout

    as_intruder(
        db,
        "UPDATE audit_event SET actor_name = 'someone else' WHERE id = (SELECT event_id FROM audit_seal WHERE seq = 1)",
    )
    _rechain(db)
    rewritten = opscenter(settings, "audit", "verify", key_file=signing)
    assert rewritten.returncode == 1
    assert "the chain was rewritten" in rewritten.stderr
    assert "checkpoint" in rewritten.stderr


def test_an_export_verifies_offline_against_a_served_checkpoint_by_the_documented_recipe(
    world: World, api: ApiFactory, db: Database, settings: Settings, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    signing, public = keys
    _audited_changes(world, api)
    seal_backlog(db)
    from opscenter.audit.checkpoints import signing_key

    key = signing_key(Settings(database_url=settings.database_url, audit_signing_key_file=str(signing)))
    assert key is not None
    assert sign_head(db, key) is not None
    served = api.as_(world.bureau).get("/api/v1/audit-checkpoints")
    assert served.status_code == 200
    checkpoint = served.json()["items"][0]
    (tmp_path / "checkpoint.json").write_text(json.dumps(checkpoint))
    assert api.as_(world.auditor).get(f"/api/v1/audit-checkpoints/{checkpoint['id']}").json() == checkpoint

    export = tmp_path / "audit.jsonl"
    exported = opscenter(settings, "audit", "export", str(export))
    assert exported.returncode == 0, exported.stderr
    offline = ["audit", "verify", "--export", str(export), "--checkpoint", str(tmp_path / "checkpoint.json")]
    # no database: a URL that leads nowhere
    nowhere = Settings(database_url="sqlite:////nonexistent/nowhere.db")
    checked = opscenter(nowhere, *offline, "--public-key", str(public))
    assert checked.returncode == 0, checked.stderr
    assert "intact" in checked.stdout

    # The auditor's own code, written from the documentation alone, agrees.
    document = api.as_(None).get("/schema/openapi.json").json()
    assert "separators" in document["paths"]["/api/v1/audit-events"]["get"]["description"]
    lines = export.read_text().splitlines()
    assert verify_export_by_the_recipe(lines, checkpoint, public.read_bytes()) == []

    # One altered line is found by both.
    event = json.loads(lines[0])
    event["actor_name"] = "someone else"
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join([json.dumps(event), *lines[1:]]) + "\n")
    refused = opscenter(
        nowhere,
        "audit",
        "verify",
        "--export",
        str(tampered),
        "--checkpoint",
        str(tmp_path / "checkpoint.json"),
        "--public-key",
        str(public),
    )
    assert refused.returncode == 1
    assert "altered" in refused.stderr
    assert verify_export_by_the_recipe(tampered.read_text().splitlines(), checkpoint, public.read_bytes()) != []


def test_the_chain_head_is_what_a_checkpoint_signs(world: World, api: ApiFactory, db: Database) -> None:
    _audited_changes(world, api)
    seal_backlog(db)
    private_pem, _ = generate_key_pair()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    pushed: list[AuditCheckpointPublic] = []  # where the notification channels attach
    published.append(pushed.append)
    try:
        checkpoint = sign_head(db, key)
    finally:
        published.remove(pushed.append)
    with db.transaction(write=False) as session:
        head = session.get(AuditChainHead, 1)
    assert checkpoint is not None
    assert head is not None
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    assert [(copy.seq, copy.signature) for copy in pushed] == [(checkpoint.seq, checkpoint.signature)]
