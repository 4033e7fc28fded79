"""Many assets at once, for the handover steps that move a whole batch: registering its new assets at
submission, taking its accepted assets over at the third signature.

The one-asset path (``service.tracked``) builds an ORM object per asset; for a 20,000-item batch that alone
would take most of a minute. Here assets and their history rows are written as plain rows (``insert_rows``:
COPY on PostgreSQL) and changed with one UPDATE per chunk, and each asset still gets its own audit event and
history row with the same content (field → [before, after]) as the one-asset path writes.
"""

import enum
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, update
from sqlmodel import Session, col, select

from operations.assets.register.models import Asset, AssetDescription, AssetHistory, AssetState
from opscenter.audit import service as audit
from opscenter.db import insert_rows, new_id
from opscenter.identity.actor import Actor
from opscenter.timekeeping import utcnow

CHUNK = 1000
_DESCRIPTION = tuple(AssetDescription.model_fields)
_NOT_AUDITED = frozenset({"id", "version", "created_at", "updated_at"})
# Core tables, not the ORM classes: plain rows skip the ORM's per-row bookkeeping.
_ASSETS: Table = Asset.__table__  # type: ignore[attr-defined]
_HISTORY: Table = AssetHistory.__table__  # type: ignore[attr-defined]


def register_many(
    session: Session,
    descriptions: Sequence[Mapping[Any, Any]],
    *,
    owner_department_id: uuid.UUID,
    state: AssetState,
    actor: Actor,
    batch_id: uuid.UUID,
) -> list[uuid.UUID]:
    """Enter new assets (each a mapping of the description fields and ``original_value_fen``) in the register,
    each with its creation event and first history row; their ids, in the order given (and ascending, so the
    register lists them in inventory order)."""
    ids = sorted(new_id() for _ in descriptions)
    now = utcnow()
    rows = [
        {
            **{name: description[name] for name in _DESCRIPTION},
            "id": asset_id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "original_value_fen": description["original_value_fen"],
            "owner_department_id": owner_department_id,
            "operator_organization_id": None,
            "state": state,
            "handover_batch_id": batch_id,
            "transferred_on": None,
            "retired_at": None,
            "retirement_reason": "",
        }
        for asset_id, description in zip(ids, descriptions, strict=True)
    ]
    insert_rows(session, _ASSETS, rows)
    changes = [
        {key: [None, _jsonable(value)] for key, value in row.items() if key not in _NOT_AUDITED and value is not None}
        for row in rows
    ]
    _record(session, ids, changes, actor=actor, action="register", batch_id=batch_id, note="")
    return ids


def transition_many(
    session: Session,
    asset_ids: Sequence[uuid.UUID],
    *,
    require: AssetState,
    values: Mapping[str, Any],
    actor: Actor,
    action: str,
    batch_id: uuid.UUID,
    note: str = "",
) -> list[uuid.UUID]:
    """Set ``values`` on every asset named, if each is in state ``require``: lock them, write each one's audit
    event ``asset.<action>`` and history row, update them (their versions move). Returns the ids that were
    not in ``require`` (or are missing), and then changes nothing."""
    fields = list(values)
    before: dict[uuid.UUID, dict[str, Any]] = {}
    for chunk in _chunks(list(asset_ids)):
        query = select(Asset.id, Asset.state, *(getattr(Asset, name) for name in fields)).where(
            col(Asset.id).in_(chunk)
        )
        for row in session.execute(query.with_for_update()).mappings():
            before[row["id"]] = dict(row)
    misfits = [asset_id for asset_id in asset_ids if asset_id not in before or before[asset_id]["state"] != require]
    if misfits or not asset_ids:
        return misfits
    now = utcnow()
    for chunk in _chunks(list(asset_ids)):
        session.execute(
            update(Asset)
            .where(col(Asset.id).in_(chunk))
            .values(**values, version=Asset.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    after = {name: _jsonable(value) for name, value in values.items()}
    changes = [
        {name: [old, after[name]] for name in fields if (old := _jsonable(before[asset_id][name])) != after[name]}
        for asset_id in asset_ids
    ]
    _record(session, list(asset_ids), changes, actor=actor, action=action, batch_id=batch_id, note=note)
    return []


def _record(
    session: Session,
    asset_ids: Sequence[uuid.UUID],
    changes: Sequence[dict[str, list[Any]]],
    *,
    actor: Actor,
    action: str,
    batch_id: uuid.UUID,
    note: str,
) -> None:
    now = utcnow()
    history = [
        {
            "id": new_id(),
            "asset_id": asset_id,
            "occurred_at": now,
            "actor_user_id": actor.user_id,
            "actor_name": actor.user_name,
            "action": action,
            "handover_batch_id": batch_id,
            "changes": change,
            "note": note,
        }
        for asset_id, change in zip(asset_ids, changes, strict=True)
    ]
    insert_rows(session, _HISTORY, history)
    audit.append_many(
        session,
        actor=actor,
        action=f"asset.{action}",
        object_type=_ASSETS.name,
        changes=list(zip(asset_ids, changes, strict=True)),
    )


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _jsonable(value: Any) -> Any:
    """As audit events store values: enums by value, ids as text, dates in ISO form."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
