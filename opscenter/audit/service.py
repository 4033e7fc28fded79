"""Writing and reading the audit trail.

Every state change calls ``record_create``, ``change`` or ``record_delete`` in the transaction that
makes the change, so its event commits or rolls back with it. Writing an event takes no lock that
other requests wait for: the event is inserted unchained, with an entry in the sealing queue, and
the sequencer (``opscenter.audit.sequencer``, the ``audit.seal`` job) later gives every committed
event its ``seq`` and hashes in the chain. Readers see events at once; ``seq`` and the hashes are
null until the event is sealed. Pages order events by id, which is time-ordered (UUIDv7).
"""

import enum
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import insert, inspect
from sqlmodel import Session, SQLModel, col, select

from opscenter.audit.chain import ChainReport as ChainReport
from opscenter.audit.chain import verify_chain as verify_chain
from opscenter.audit.models import AuditEvent, AuditQueueEntry
from opscenter.db import core_table, new_id
from opscenter.errors import InvalidInput, NotFound
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.search import haystack, matches
from opscenter.timekeeping import as_utc, utcnow

log = logging.getLogger(__name__)

# Bookkeeping columns that every event implies (the object's id, the event's own time) or that only add noise.
_NOT_AUDITED = frozenset({"id", "version", "created_at", "updated_at"})

Snapshot = dict[str, Any]


def snapshot(row: SQLModel, **children: Sequence[SQLModel]) -> Snapshot:
    """The audited column values of ``row`` now, to diff against after the change.

    ``children`` (e.g. ``items=request.items``) are rows that belong to ``row`` and change with it;
    each becomes a field listing their snapshots.
    """
    values = {key: _jsonable(getattr(row, key)) for key in _audited_keys(type(row))}
    for name, rows in children.items():
        values[name] = [snapshot(child) for child in rows]
    return values


@cache
def _audited_keys(model: type[SQLModel]) -> tuple[str, ...]:
    """The audited column keys of ``model``: read from its mapper once per class, not on every write."""
    excluded = _NOT_AUDITED | getattr(model, "audit_exclude", frozenset())
    return tuple(attr.key for attr in inspect(model).column_attrs if attr.key not in excluded)


@cache
def _table_name(model: type[SQLModel]) -> str:
    return str(inspect(model).local_table.name)


def _snapshot_with(row: SQLModel, children: Sequence[str]) -> Snapshot:
    return snapshot(row, **{name: getattr(row, name) for name in children})


def record_create(
    session: Session, *, actor: Actor, action: str, row: SQLModel, children: Sequence[str] = ()
) -> uuid.UUID:
    """Audit the creation of ``row``: every audited field goes from nothing to its value.

    ``children`` names collections that belong to the row (``("items",)``) and go in the record.
    """
    after = _snapshot_with(row, children)
    changes = {key: [None, value] for key, value in after.items() if value not in (None, [])}
    return append(session, actor=actor, action=action, row=row, changes=changes)


@contextmanager
def change(
    session: Session,
    *,
    actor: Actor,
    action: str,
    row: SQLModel,
    children: Sequence[str] = (),
    words: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Audit what the block changes on ``row`` (and on its ``children`` collections) as one event.

    ``with audit.change(session, actor=actor, action="api_key.revoke", row=key): key.revoked_at = now``.
    A block that changes nothing writes no event; a block that raises writes none either. ``words`` are what the
    actor wrote with a decision (``{"reason": "预算不足"}``, see ``opscenter.workflow``): kept in the event as
    ``[null, text]``, so the object's history shows them whether or not the object stores them.
    """
    before = _snapshot_with(row, children)
    yield
    after = _snapshot_with(row, children)
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if changes:
        changes.update({name: [None, text] for name, text in (words or {}).items() if text})
    if changes:
        append(session, actor=actor, action=action, row=row, changes=changes)


def record_delete(session: Session, *, actor: Actor, action: str, row: SQLModel) -> uuid.UUID:
    """Audit the deletion of ``row`` (every audited field goes from its value to nothing)."""
    changes = {key: [value, None] for key, value in snapshot(row).items() if value is not None}
    return append(session, actor=actor, action=action, row=row, changes=changes)


def append(
    session: Session, *, actor: Actor, action: str, row: SQLModel, changes: Mapping[str, list[Any]]
) -> uuid.UUID:
    """Insert one event and queue it for sealing; no lock is shared with other writers. Returns the event's id."""
    object_id = getattr(row, "id", None)
    if object_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet; audit after the id is assigned")
    object_type = _table_name(type(row))
    return append_many(session, actor=actor, action=action, object_type=object_type, changes=[(object_id, changes)])[0]


def append_many(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    changes: Sequence[tuple[Any, Mapping[str, list[Any]]]],
) -> list[uuid.UUID]:
    """Insert one event per (object id, changes), all of ``object_type`` and ``action``, and queue them for sealing,
    in two statements whatever their number. Returns the events' ids, in order.

    Plain inserts in the session's transaction, not ORM objects: an event is written once and never changed,
    and the unit of work would cost more than the rest of a small audited request's database work (building,
    sorting and flushing two objects per event).
    """
    now = utcnow()
    ids = [_next_event_id() for _ in changes]
    events = [
        {
            "id": event_id,
            "occurred_at": now,
            "actor_user_id": actor.user_id,
            "actor_name": actor.user_name,
            "actor_organization_id": actor.organization_id,
            "actor_role": actor.role_name,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "changes": dict(changed),
            "request_id": actor.request_id,
            "client_address": actor.client_address,
            "credential_kind": actor.credential_kind,
            "credential_id": actor.credential_id,
        }
        for event_id, (object_id, changed) in zip(ids, changes, strict=True)
    ]
    if not events:
        return []
    connection = session.connection()
    if len(events) == 1:  # the usual case: one row each, without the executemany machinery
        connection.execute(_INSERT_EVENT, events[0])
        connection.execute(_INSERT_QUEUED, {"event_id": ids[0]})
    else:
        connection.execute(_INSERT_EVENT, events)
        connection.execute(_INSERT_QUEUED, [{"event_id": event_id} for event_id in ids])
    return ids


_EVENTS, _QUEUE = core_table(AuditEvent), core_table(AuditQueueEntry)
_INSERT_EVENT, _INSERT_QUEUED = insert(_EVENTS), insert(_QUEUE)  # built once: every audited write sends both

_UUID_VARIANT = 0x2 << 62
_id_lock = threading.Lock()
_last_event_id = 0


def _next_event_id() -> uuid.UUID:
    """A UUIDv7 greater than every event id this process issued before.

    Two events written in the same millisecond (one request auditing two rows) would otherwise order
    by their random bits; the sequencer seals in id order, and history lists in id order, so the
    second must sort after the first.
    """
    global _last_event_id
    with _id_lock:
        while True:
            candidate = new_id().int
            if candidate <= _last_event_id:
                candidate = _last_event_id + 1  # same millisecond: the next value of its random tail
            if (candidate & (0x3 << 62)) == _UUID_VARIANT:
                break
            time.sleep(0.001)  # the random tail overflowed (about never): wait for the next millisecond
        _last_event_id = candidate
    return uuid.UUID(int=candidate)


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    # A JSON number a person wrote in free JSON (an asset's spec: {"memory_tb": 1.5}), kept as they wrote it.
    # Never money: amounts are integer fen. NaN and Infinity are not JSON; input refuses them (check_json).
    if isinstance(value, float) and math.isfinite(value):
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
    q: str | None = None  # a part of the actor's name, the action, the object's type or id


SEARCHED = haystack(
    col(AuditEvent.actor_name), col(AuditEvent.action), col(AuditEvent.object_type), col(AuditEvent.object_id)
)


def list_events(session: Session, *, page: PageRequest, filters: EventFilter) -> Slice[AuditEvent]:
    """Events newest first (by id, which is unique and time-ordered), sealed or not."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc())
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
    if filters.q:
        query = query.where(matches(SEARCHED, filters.q))
    return keyset(session, query, page)


def history(session: Session, row: SQLModel, *, page: PageRequest) -> Slice[AuditEvent]:
    """The trail of one object, oldest first (by id), sealed or not. Callers check first that the reader may
    see the object."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == str(inspect(type(row)).local_table.name))
        .where(AuditEvent.object_id == str(getattr(row, "id")))  # noqa: B009 - every audited row has an id
        .order_by(col(AuditEvent.id))
    )
    return keyset(session, query, page)


def aware(field: str, instant: datetime | None) -> datetime | None:
    """A ``since``/``until`` filter checked before a list or an export begins: 400 naming it when it has no zone."""
    return None if instant is None else _aware(field, instant)


def _aware(field: str, instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput(field, "must carry a timezone, e.g. 2026-11-01T00:00:00Z", parameter=True)
    return as_utc(instant)


def get_event(session: Session, event_id: uuid.UUID) -> AuditEvent:
    event = session.get(AuditEvent, event_id)
    if event is None:
        raise NotFound("audit event")
    return event
