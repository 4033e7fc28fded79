"""Writing and checking the audit trail.

Every state change calls ``record_create`` or ``record_update`` in the transaction that makes the
change, so the event commits or rolls back with it. Events form a hash chain: each stores the hash
of its predecessor, and its own hash covers its whole content. Appenders serialize on the chain's
head row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite write transactions are serialized anyway),
so the chain has no forks and ``seq`` has no gaps.
"""

import enum
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, col, select

from opscenter.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from opscenter.auth.actor import Actor
from opscenter.clock import as_utc, utcnow
from opscenter.db import PageRequest, paginate
from opscenter.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

# Bookkeeping columns that every event implies (the object's id, the event's own time) or that only add noise.
_NOT_AUDITED = frozenset({"id", "version", "created_at", "updated_at"})

Snapshot = dict[str, Any]


def snapshot(row: SQLModel, **children: Sequence[SQLModel]) -> Snapshot:
    """The audited column values of ``row`` now, to diff against after the change.

    ``children`` (e.g. ``items=request.items``) are rows that belong to ``row`` and change with it;
    each becomes a field listing their snapshots.
    """
    excluded = _NOT_AUDITED | getattr(row, "audit_exclude", frozenset())
    mapper = inspect(type(row))
    values = {attr.key: _jsonable(getattr(row, attr.key)) for attr in mapper.column_attrs if attr.key not in excluded}
    for name, rows in children.items():
        values[name] = [snapshot(child) for child in rows]
    return values


def _snapshot_with(row: SQLModel, children: Sequence[str]) -> Snapshot:
    return snapshot(row, **{name: getattr(row, name) for name in children})


def record_create(
    session: Session, *, actor: Actor, action: str, row: SQLModel, children: Sequence[str] = ()
) -> AuditEvent:
    """Audit the creation of ``row``: every audited field goes from nothing to its value.

    ``children`` names collections that belong to the row (``("items",)``) and go in the record.
    """
    after = _snapshot_with(row, children)
    changes = {key: [None, value] for key, value in after.items() if value not in (None, [])}
    return append(session, actor=actor, action=action, row=row, changes=changes)


@contextmanager
def change(
    session: Session, *, actor: Actor, action: str, row: SQLModel, children: Sequence[str] = ()
) -> Iterator[None]:
    """Audit what the block changes on ``row`` (and on its ``children`` collections) as one event.

    ``with audit.change(session, actor=actor, action="api_key.revoke", row=key): key.revoked_at = now``.
    A block that changes nothing writes no event; a block that raises writes none either.
    """
    before = _snapshot_with(row, children)
    yield
    after = _snapshot_with(row, children)
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if changes:
        append(session, actor=actor, action=action, row=row, changes=changes)


def record_delete(session: Session, *, actor: Actor, action: str, row: SQLModel) -> AuditEvent:
    """Audit the deletion of ``row`` (every audited field goes from its value to nothing)."""
    changes = {key: [value, None] for key, value in snapshot(row).items() if value is not None}
    return append(session, actor=actor, action=action, row=row, changes=changes)


def append(
    session: Session, *, actor: Actor, action: str, row: SQLModel, changes: Mapping[str, list[Any]]
) -> AuditEvent:
    object_id = getattr(row, "id", None)
    if object_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet; audit after the id is assigned")
    head = session.exec(select(AuditChainHead).with_for_update()).one()
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor_name=actor.user_name,
        actor_organization_id=actor.organization_id,
        actor_role=actor.role_name,
        action=action,
        object_type=str(inspect(type(row)).local_table.name),
        object_id=str(object_id),
        changes=dict(changes),
        request_id=actor.request_id,
        prev_hash=head.hash,
        hash="",
    )
    event.hash = event_hash(event)
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    session.add(head)
    return event


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's canonical JSON, including its predecessor's hash."""
    content = {
        "seq": event.seq,
        "id": str(event.id),
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": _jsonable(event.actor_user_id),
        "actor_name": event.actor_name,
        "actor_organization_id": _jsonable(event.actor_organization_id),
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(session: Session, *, batch_size: int = 2000) -> ChainReport:
    """Walk the whole chain and report every edited, inserted or deleted event."""
    report = ChainReport()
    expected_seq, previous = 1, GENESIS_HASH
    for event in _in_order(session, batch_size):
        report.checked += 1
        if event.seq != expected_seq:
            report.problems.append(
                f"events {expected_seq}..{event.seq - 1} are missing: deleted from the trail"
                if event.seq > expected_seq
                else f"event {event.seq} appears twice or out of order"
            )
        if event.prev_hash != previous:
            report.problems.append(f"event {event.seq} ({event.id}) does not follow the event before it")
        if event_hash(event) != event.hash:
            report.problems.append(
                f"event {event.seq} ({event.id}) was altered: its content no longer matches its hash"
            )
        expected_seq, previous = event.seq + 1, event.hash
    head = session.get(AuditChainHead, 1)
    if head is None:
        report.problems.append("the chain head is missing")
    elif head.seq != expected_seq - 1 or head.hash != previous:
        report.problems.append(
            f"the trail ends at event {expected_seq - 1} but its head records event {head.seq}: "
            "events at the end were deleted or the head was edited"
        )
    return report


def _in_order(session: Session, batch_size: int) -> Iterator[AuditEvent]:
    """Events by seq, in keyset batches, so a long trail never sits in memory at once."""
    last_seq = 0
    while batch := session.exec(
        select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(col(AuditEvent.seq)).limit(batch_size)
    ).all():
        yield from batch
        last_seq = batch[-1].seq
        session.expunge_all()


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


@dataclass(frozen=True)
class EventFilter:
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor_user_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(session: Session, *, page: PageRequest, filters: EventFilter) -> tuple[list[AuditEvent], int]:
    query = select(AuditEvent).order_by(col(AuditEvent.seq).desc())
    if filters.object_type is not None:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.since is not None:
        query = query.where(col(AuditEvent.occurred_at) >= _aware("since", filters.since))
    if filters.until is not None:
        query = query.where(col(AuditEvent.occurred_at) < _aware("until", filters.until))
    return paginate(session, query, page)


def history(session: Session, row: SQLModel, *, page: PageRequest) -> tuple[list[AuditEvent], int]:
    """The trail of one object, oldest first. Callers check first that the reader may see the object."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == str(inspect(type(row)).local_table.name))
        .where(AuditEvent.object_id == str(getattr(row, "id")))  # noqa: B009 - every audited row has an id
        .order_by(col(AuditEvent.seq))
    )
    return paginate(session, query, page)


def _aware(field: str, instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput(field, "must carry a timezone, e.g. 2026-11-01T00:00:00Z", parameter=True)
    return as_utc(instant)


def get_event(session: Session, event_id: uuid.UUID) -> AuditEvent:
    event = session.get(AuditEvent, event_id)
    if event is None:
        raise NotFound("audit event")
    return event
