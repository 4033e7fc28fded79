"""The hash chain: how a sealed event's hash is computed, and the walk that checks the whole chain.

The hash covers the event's content, its ``seq`` and its predecessor's hash. Recipe 1 hashes exactly as events were
hashed when they were chained on write (before migration 0004), so trails written then still verify; recipe 2
(since migration 0020) also covers the client address and the credential that acted, so an edit of those shows.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import lazyload
from sqlmodel import Session, col, func, select

from opscenter.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditQueueEntry, AuditSeal
from opscenter.db import Transactions

CURRENT_RECIPE = 2
"""The recipe the sequencer seals a request's event with; a seal records its own, and verification follows it
(README, "The hash recipe"). Recipe 1 (every seal before migration 0020, and since then the events of the system,
which carry no client address and no credential) leaves out what recipe 2 adds: the client address, the
credential, the recipe itself, and it writes the time as Python's ``isoformat`` did. A recipe-1 event must have
those three null: one that carries them had them added after its seal, which verification reports."""
ATTRIBUTION = ("client_address", "credential_kind", "credential_id")


def recipe_for(event: AuditEvent) -> int:
    """Recipe 2 for an event that names a client or a credential, else 1 (its hash then stays what it was before
    migration 0020, so a downgrade past it keeps the chain whole)."""
    return CURRENT_RECIPE if any(getattr(event, name) is not None for name in ATTRIBUTION) else 1


def event_hash(event: AuditEvent, *, seq: int, prev_hash: str, recipe: int = CURRENT_RECIPE) -> str:
    """SHA-256 over the event's canonical JSON, its place in the chain and its predecessor's hash."""
    fields: dict[str, Any] = {
        "id": str(event.id),
        "occurred_at": event.occurred_at,
        "actor_user_id": _text(event.actor_user_id),
        "actor_name": event.actor_name,
        "actor_organization_id": _text(event.actor_organization_id),
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "client_address": event.client_address,
        "credential_kind": event.credential_kind,
        "credential_id": event.credential_id,
    }
    return hash_of(fields, seq=seq, prev_hash=prev_hash, recipe=recipe)


RECIPE_1_FIELDS = (
    "id",
    "occurred_at",
    "actor_user_id",
    "actor_name",
    "actor_organization_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "changes",
    "request_id",
)
RECIPE_2_FIELDS = (*RECIPE_1_FIELDS, "client_address", "credential_kind", "credential_id")


def hash_of(fields: Mapping[str, Any], *, seq: int, prev_hash: str, recipe: int) -> str:
    """The hash of an event given as its fields (``occurred_at`` an aware datetime, ids as text): what the
    sequencer seals and what ``opscenter audit verify --export`` checks an exported line with."""
    if recipe not in (1, 2):
        raise ValueError(f"unknown hash recipe {recipe}")
    names = RECIPE_1_FIELDS if recipe == 1 else RECIPE_2_FIELDS
    content = {name: fields[name] for name in names}
    instant: datetime = fields["occurred_at"]
    content["occurred_at"] = instant.isoformat() if recipe == 1 else rfc3339(instant)
    content["seq"], content["prev_hash"] = seq, prev_hash
    if recipe >= 2:
        content["recipe"] = recipe
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def rfc3339(instant: datetime) -> str:
    """``2026-12-05T23:29:37.000123Z``: UTC, always six fractional digits (recipe 2)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class ChainReport:
    """What ``verify_chain`` found: sealed events checked, problems, and the backlog still to seal."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    unsealed: int = 0
    oldest_unsealed_at: datetime | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(db: Transactions, *, batch_size: int = 2000) -> ChainReport:
    """Walk the sealed chain and report every edited, inserted or deleted event; count the unsealed ones.

    The head is read first: the sequencer writes seals and the head in one transaction, so every seal
    up to the head is committed by then, and seals made during the walk are left for the next
    verification instead of being mistaken for a tampered tail. A seal never changes once written, so the
    walk reads it ``batch_size`` seals to a read transaction: a trail of millions is checked without one
    transaction held open for minutes (on PostgreSQL it would hold back vacuum, on SQLite the WAL's
    checkpoint).
    """
    report = ChainReport()
    with db.transaction(write=False) as session:
        head = session.get(AuditChainHead, 1)
    expected_seq, previous = 1, GENESIS_HASH
    for seal, event in _sealed_in_order(db, up_to=head.seq if head else None, batch_size=batch_size):
        report.checked += 1
        if seal.seq != expected_seq:
            report.problems.append(
                f"events {expected_seq}..{seal.seq - 1} are missing: deleted from the trail"
                if seal.seq > expected_seq
                else f"event {seal.seq} appears twice or out of order"
            )
        if seal.prev_hash != previous:
            report.problems.append(f"event {seal.seq} ({seal.event_id}) does not follow the event before it")
        if event is None:
            report.problems.append(f"event {seal.seq} ({seal.event_id}) is missing: deleted from the trail")
        elif event_hash(event, seq=seal.seq, prev_hash=seal.prev_hash, recipe=seal.recipe) != seal.hash:
            report.problems.append(
                f"event {seal.seq} ({seal.event_id}) was altered: its content no longer matches its hash"
            )
        elif recipe_for(event) > seal.recipe:
            report.problems.append(
                f"event {seal.seq} ({seal.event_id}) was altered: a client address or credential was added after "
                "its seal"
            )
        expected_seq, previous = seal.seq + 1, seal.hash
    if head is None:
        report.problems.append("the chain head is missing")
    elif head.seq != expected_seq - 1 or head.hash != previous:
        report.problems.append(
            f"the trail ends at event {expected_seq - 1} but its head records event {head.seq}: "
            "events at the end were deleted or the head was edited"
        )
    with db.transaction(write=False) as session:
        _count_unsealed(session, report)
    return report


def _sealed_in_order(
    db: Transactions, *, up_to: int | None, batch_size: int
) -> Iterator[tuple[AuditSeal, AuditEvent | None]]:
    """Seals by seq with their events (None where the event row is gone), in keyset batches, each read in a read
    transaction of its own."""
    last_seq = 0
    while True:
        query = (
            select(AuditSeal, AuditEvent)
            .outerjoin(AuditEvent, col(AuditEvent.id) == col(AuditSeal.event_id))
            .options(lazyload(AuditEvent.seal))  # type: ignore[arg-type]  # never read here: no join, no query
            .where(col(AuditSeal.seq) > last_seq)
            .order_by(col(AuditSeal.seq))
            .limit(batch_size)
        )
        if up_to is not None:
            query = query.where(col(AuditSeal.seq) <= up_to)
        with db.transaction(write=False) as session:
            batch = session.exec(query).all()
            session.expunge_all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1][0].seq


def _count_unsealed(session: Session, report: ChainReport) -> None:
    """Events without a seal: the backlog, and any that left the queue unsealed (only tampering does that).

    One statement, so it sees the sequencer's seals and queue deletions together or not at all.
    """
    queued = col(AuditQueueEntry.event_id)
    unsealed, oldest, unqueued = session.exec(
        select(
            func.count(col(AuditEvent.id)),
            func.min(col(AuditEvent.occurred_at)),
            func.count(col(AuditEvent.id)).filter(queued.is_(None)),
        )
        .select_from(AuditEvent)
        .outerjoin(AuditSeal, col(AuditSeal.event_id) == col(AuditEvent.id))
        .outerjoin(AuditQueueEntry, queued == col(AuditEvent.id))
        .where(col(AuditSeal.event_id).is_(None))
    ).one()
    report.unsealed, report.oldest_unsealed_at = unsealed, oldest
    if unqueued:
        report.problems.append(
            f"{unqueued} event(s) are neither sealed nor waiting to be sealed: their seals were deleted"
        )
