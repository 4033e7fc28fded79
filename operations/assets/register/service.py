"""The asset register as records: reading it (scoped, filtered), keeping it current, retiring, and the history
row that every change writes beside its audit event. Handovers move single assets through ``tracked``
and whole batches through ``bulk``; other domains resolve the assets they link to with ``assets_for_linking``."""

import enum
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.instances import service as instances
from operations.assets.register.models import (
    Asset,
    AssetDetail,
    AssetHistory,
    AssetHistoryPublic,
    AssetKind,
    AssetLink,
    AssetPublic,
    AssetState,
    AssetUpdate,
)
from opscenter.audit import service as audit
from opscenter.errors import FieldError, InvalidRows
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.money import from_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.search import haystack, matches
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status


@dataclass(frozen=True)
class AssetFilter:
    owner_department_id: uuid.UUID | None = None
    kind: Collection[AssetKind] | None = None
    state: Collection[AssetState] | None = None
    location: str | None = None  # prefix
    serial_prefix: str | None = None
    q: str | None = None  # a part of the name, serial number, model or location


def _scoped(query: SelectOfScalar[Asset], actor: Actor) -> SelectOfScalar[Asset]:
    """A department sees the assets it owns; the operations center, the bureau and auditors see all."""
    return query.where(Asset.owner_department_id == actor.required_organization_id) if actor.is_department else query


def _filtered(query: SelectOfScalar[Asset], filters: AssetFilter) -> SelectOfScalar[Asset]:
    if filters.owner_department_id is not None:
        query = query.where(Asset.owner_department_id == filters.owner_department_id)
    query = any_of(query, Asset.kind, filters.kind)
    query = any_of(query, Asset.state, filters.state)
    if filters.location:
        query = query.where(starts_with(col(Asset.location), filters.location))
    if filters.serial_prefix:
        query = query.where(starts_with(col(Asset.serial_number), filters.serial_prefix))
    if filters.q:
        query = query.where(matches(SEARCHED, filters.q))
    return query


SEARCHED = haystack(col(Asset.name), col(Asset.serial_number), col(Asset.model), col(Asset.location))


class AssetSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"  # by name, then newest first


_ORDERS = {
    AssetSort.NEWEST: (col(Asset.id).desc(),),
    AssetSort.OLDEST: (col(Asset.id),),
    AssetSort.NAME: (col(Asset.name), col(Asset.id).desc()),
}


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as a range ``[prefix, next)`` that a byte-ordered btree index serves."""
    upper = _after_prefix(prefix)
    lower: ColumnElement[bool] = column >= prefix
    return lower if upper is None else and_(lower, column < upper)


def _after_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (None: there is none)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored; the next character is U+E000
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def get_asset(session: Session, asset_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Asset:
    """An asset the actor may see (another department's answers 404, as a missing one)."""
    return get_visible(session, Asset, asset_id, actor=actor, scope=_scoped, noun="asset", for_update=for_update)


def list_assets(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    filters: AssetFilter = AssetFilter(),
    sort: AssetSort = AssetSort.NEWEST,
) -> Slice[Asset]:
    """The register, newest first unless ``sort`` says otherwise (each filter has an index serving newest)."""
    query = _filtered(_scoped(select(Asset).order_by(*_ORDERS[sort]), actor), filters)
    return keyset(session, query, page)


def iter_assets(
    session: Session, *, actor: Actor, filters: AssetFilter = AssetFilter(), batch_size: int = 1000
) -> Iterator[list[Asset]]:
    """The whole filtered register, oldest first, in keyset batches."""
    last: uuid.UUID | None = None
    while batch := assets_after(session, last, actor=actor, filters=filters, limit=batch_size):
        yield batch
        last = batch[-1].id


def assets_after(
    session: Session, after: uuid.UUID | None, *, actor: Actor, filters: AssetFilter, limit: int
) -> list[Asset]:
    """Up to ``limit`` assets of the filtered register after the asset ``after`` (None: from the first), oldest
    first: a batch of an export, read in a transaction of its own."""
    query = _filtered(_scoped(select(Asset).order_by(col(Asset.id)), actor), filters)
    if after is not None:
        query = query.where(col(Asset.id) > after)
    return list(session.exec(query.limit(limit)).all())


def assets_for_linking(
    session: Session, asset_ids: Sequence[uuid.UUID], *, actor: Actor, field: str = "asset_ids"
) -> list[Asset]:
    """The assets ``asset_ids`` names, in that order, if ``actor`` may see every one of them.

    For other domains that link to assets (a ticket about a server). An id the actor may not see is
    refused exactly like a missing one: 422 naming ``<field>.N`` for each.
    """
    wanted = list(dict.fromkeys(asset_ids))
    found = {asset.id: asset for asset in session.exec(_scoped(select(Asset).where(col(Asset.id).in_(wanted)), actor))}
    missing = [
        FieldError(f"{field}.{n}", "no such asset") for n, asset_id in enumerate(asset_ids) if asset_id not in found
    ]
    if missing:
        raise InvalidRows(f"{len(missing)} of the assets named do not exist.", errors=missing)
    return [found[asset_id] for asset_id in wanted]


@contextmanager
def tracked(
    session: Session, asset: Asset, *, actor: Actor, action: str, batch_id: uuid.UUID | None = None, note: str = ""
) -> Iterator[None]:
    """Record what the block changes on ``asset`` (links included) twice over: as an audit event
    ``asset.<action>`` and as an asset history row. A block that changes nothing records nothing."""
    before = _state_of(asset)
    yield
    after = _state_of(asset)
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if not changes:
        return
    if "service_instance_ids" in changes:
        asset.updated_at = utcnow()  # links are rows of their own: make the asset's version (its ETag) move too
    audit.append(session, actor=actor, action=f"asset.{action}", row=asset, changes=changes)
    _history(session, asset, actor=actor, action=action, changes=changes, batch_id=batch_id, note=note)


def _state_of(asset: Asset) -> dict[str, Any]:
    values = audit.snapshot(asset)
    values["service_instance_ids"] = sorted(str(link.service_instance_id) for link in asset.links)
    return values


def _history(
    session: Session,
    asset: Asset,
    *,
    actor: Actor,
    action: str,
    changes: dict[str, Any],
    batch_id: uuid.UUID | None,
    note: str,
) -> None:
    session.add(
        AssetHistory(
            asset_id=asset.id,
            occurred_at=utcnow(),
            actor_user_id=actor.user_id,
            actor_name=actor.user_name,
            action=action,
            handover_batch_id=batch_id,
            changes=changes,
            note=note,
        )
    )


def update_asset(
    session: Session, asset_id: uuid.UUID, data: AssetUpdate, *, actor: Actor, expected_version: int
) -> Asset:
    """The operations center keeps an asset it operates current: where it is, its spec, what it backs."""
    asset = get_asset(session, asset_id, actor=actor, for_update=True)
    asset.require_version(expected_version)
    require_status(asset.state, AssetState.OPERATED, doing="update", noun="asset")
    links = None if data.service_instance_ids is None else _links(session, data.service_instance_ids, actor=actor)
    with tracked(session, asset, actor=actor, action="update"):
        if data.location is not None:
            asset.location = data.location
        if data.spec is not None:
            asset.spec = data.spec
        if links is not None:
            current = {link.service_instance_id for link in asset.links}
            if set(links) != current:
                asset.links = [AssetLink(asset_id=asset.id, service_instance_id=instance_id) for instance_id in links]
    session.flush()
    return asset


def _links(session: Session, instance_ids: list[uuid.UUID], *, actor: Actor) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(instance_ids))
    visible = instances.visible_instance_ids(session, wanted, actor=actor)
    missing = [
        FieldError(f"service_instance_ids.{n}", "no such service instance")
        for n, instance_id in enumerate(instance_ids)
        if instance_id not in visible
    ]
    if missing:
        raise InvalidRows(f"{len(missing)} of the service instances named do not exist.", errors=missing)
    return sorted(wanted)


def retire_asset(session: Session, asset_id: uuid.UUID, *, actor: Actor, expected_version: int, reason: str) -> Asset:
    """Take an operated asset out of service for good; it backs no service instance afterwards."""
    asset = get_asset(session, asset_id, actor=actor, for_update=True)
    asset.require_version(expected_version)
    require_status(asset.state, AssetState.OPERATED, doing="retire", noun="asset")
    with tracked(session, asset, actor=actor, action="retire", note=reason):
        asset.state, asset.retired_at, asset.retirement_reason = AssetState.RETIRED, utcnow(), reason
        asset.links = []
    session.flush()
    return asset


def history_of(session: Session, asset: Asset) -> list[AssetHistory]:
    """Every change of ``asset``, oldest first. Callers check first that the reader may see it."""
    query = select(AssetHistory).where(AssetHistory.asset_id == asset.id).order_by(col(AssetHistory.id))
    return list(session.exec(query).all())


def to_public(session: Session, assets: Collection[Asset], *, actor: Actor) -> list[AssetPublic]:
    """The public answers for ``assets``, each showing only the service instances ``actor`` may see (one query)."""
    linked = {link.service_instance_id for asset in assets for link in asset.links}
    visible = instances.visible_instance_ids(session, linked, actor=actor)
    return [
        AssetPublic.model_validate(
            asset,
            update={
                "original_value": from_fen(asset.original_value_fen),
                "service_instance_ids": [
                    link.service_instance_id for link in asset.links if link.service_instance_id in visible
                ],
            },
        )
        for asset in assets
    ]


def detail(session: Session, asset: Asset, *, actor: Actor) -> AssetDetail:
    (public,) = to_public(session, [asset], actor=actor)
    history = [AssetHistoryPublic.model_validate(row) for row in history_of(session, asset)]
    return AssetDetail.model_validate({**public.model_dump(), "history": history})
