"""The audit trail outside the database: its export, and the standalone check of an export against a checkpoint.

An export is JSON lines, one sealed event per line in ``seq`` order from 1, each exactly as
``GET /api/v1/audit-events/{id}`` answers it (``AuditEventPublic``). ``verify_export`` needs no database: it
recomputes each hash by the documented recipe (README, "The hash recipe"), follows the links from the genesis hash,
and checks that the line at the checkpoint's ``seq`` carries the hash the checkpoint signed, under the given public
key. ``opscenter audit export`` writes one; ``opscenter audit verify --export … --checkpoint … --public-key …``
checks one.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from sqlmodel import col, select

from opscenter.audit.chain import ATTRIBUTION, hash_of
from opscenter.audit.checkpoints import key_id, load_public_key, signature_holds
from opscenter.audit.models import GENESIS_HASH, AuditCheckpointPublic, AuditEvent, AuditEventPublic, AuditSeal
from opscenter.db import Transactions

EXPORT_BATCH = 2000


def export(db: Transactions, out: IO[str]) -> int:
    """Write every sealed event, in ``seq`` order, one JSON line each; returns how many. Short read transactions."""
    last, written = 0, 0
    while True:
        with db.transaction(write=False) as session:
            rows = session.exec(
                select(AuditEvent)
                .join(AuditSeal, col(AuditSeal.event_id) == col(AuditEvent.id))
                .where(col(AuditSeal.seq) > last)
                .order_by(col(AuditSeal.seq))
                .limit(EXPORT_BATCH)
            ).all()
            lines = [AuditEventPublic.model_validate(row).model_dump_json() for row in rows]
            seqs = [row.seq for row in rows]
        if not rows:
            return written
        out.writelines(line + "\n" for line in lines)
        written += len(lines)
        last = seqs[-1] or last


def verify_export(lines: Iterable[str], checkpoint_json: str, public_key_pem: bytes) -> tuple[int, list[str]]:
    """(events checked, problems) of an export against a checkpoint; no problems means it holds."""
    problems: list[str] = []
    public_key = load_public_key(public_key_pem)
    checkpoint = AuditCheckpointPublic.model_validate_json(checkpoint_json)
    if checkpoint.key_id != key_id(public_key) or not signature_holds(checkpoint, public_key):
        problems.append("the checkpoint is not signed by this public key")
    expected_seq, previous, checked, reached = 1, GENESIS_HASH, 0, False
    for number, event in _events(lines):
        checked += 1
        seq = event.get("seq")
        if seq != expected_seq:
            problems.append(f"line {number}: event {seq} where event {expected_seq} belongs: missing or reordered")
        if event.get("prev_hash") != previous:
            problems.append(f"line {number}: event {seq} does not follow the event before it")
        recomputed = hash_of(
            {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))},
            seq=int(seq or 0),
            prev_hash=str(event.get("prev_hash")),
            recipe=int(event.get("recipe") or 1),
        )
        if int(event.get("recipe") or 1) == 1 and any(event.get(name) is not None for name in ATTRIBUTION):
            problems.append(f"line {number}: event {seq} was altered: a client address or credential was added")
        if recomputed != event.get("hash"):
            problems.append(
                f"line {number}: event {seq} ({event.get('id')}) was altered: it no longer matches its hash"
            )
        if seq == checkpoint.seq:
            reached = True
            if event.get("hash") != checkpoint.hash:
                problems.append(f"event {seq} does not carry the hash its checkpoint signed: the trail was rewritten")
        expected_seq, previous = int(seq or 0) + 1, str(event.get("hash"))
    if not reached:
        problems.append(f"the export ends at event {expected_seq - 1}, before the checkpoint's event {checkpoint.seq}")
    return checked, problems


def _events(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, json.loads(line)
