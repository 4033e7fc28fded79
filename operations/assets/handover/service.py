"""Handover batches as records: drafting a batch and its inventory (JSON or an uploaded file), reading batches,
items and the inspection report. The steps (submit, inspect, sign, cancel) live in flows.py."""

import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from operations.assets.handover.models import (
    MAX_ITEMS,
    Defect,
    HandoverBatch,
    HandoverBatchCreate,
    HandoverItem,
    HandoverItemsIn,
    HandoverStatus,
    InspectionReport,
    InspectionResult,
    KindCount,
)
from operations.assets.register import columns
from operations.assets.register.models import Asset, AssetIn, AssetKind, AssetState
from opscenter.audit import service as audit
from opscenter.db import core_table, insert_rows, new_id
from opscenter.errors import ErrorList, FieldError, InvalidRows
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.money import to_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.sheets import Limits
from opscenter.workflow import require_status

OPEN = (HandoverStatus.DRAFT, HandoverStatus.SUBMITTED, HandoverStatus.INSPECTED)
_CHUNK = 1000  # ids or serials per IN (...) list
Blame = Callable[[int, str], FieldError]  # (index of the new item, problem) → the error naming where it came from


def _scoped(query: SelectOfScalar[HandoverBatch], actor: Actor) -> SelectOfScalar[HandoverBatch]:
    """A department sees its own batches; the operations center sees them once submitted; the bureau and
    auditors see all."""
    if actor.is_department:
        return query.where(HandoverBatch.department_id == actor.required_organization_id)
    if actor.role == Role.OPERATOR:
        return query.where(col(HandoverBatch.status).not_in((HandoverStatus.DRAFT, HandoverStatus.CANCELLED)))
    return query


def get_batch(session: Session, batch_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> HandoverBatch:
    """A batch the actor may see. ``for_update`` locks its row: every step on a batch (and every signature)
    then decides on the state it sees, one after the other."""
    return get_visible(
        session, HandoverBatch, batch_id, actor=actor, scope=_scoped, noun="handover batch", for_update=for_update
    )


def list_batches(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: Collection[HandoverStatus] | None = None,
    department_id: uuid.UUID | None = None,
) -> Slice[HandoverBatch]:
    query = _scoped(select(HandoverBatch).order_by(col(HandoverBatch.id).desc()), actor)
    query = any_of(query, HandoverBatch.status, status)
    if department_id is not None:
        query = query.where(HandoverBatch.department_id == department_id)
    return keyset(session, query, page)


def list_items(
    session: Session, batch: HandoverBatch, *, page: PageRequest, result: Collection[InspectionResult] | None = None
) -> Slice[HandoverItem]:
    """A batch's inventory in the order it was listed. Callers check first that the reader may see the batch."""
    query = select(HandoverItem).where(HandoverItem.batch_id == batch.id)
    query = any_of(query, HandoverItem.result, result)
    return keyset(session, query.order_by(col(HandoverItem.position), col(HandoverItem.id)), page)


def iter_items(session: Session, batch: HandoverBatch, *, batch_size: int = 2000) -> Iterator[list[HandoverItem]]:
    """The whole inventory by position, in keyset batches (for the big steps)."""
    last = 0
    while items := items_after(session, batch.id, last, limit=batch_size):
        yield items
        last = items[-1].position


def items_after(session: Session, batch_id: uuid.UUID, position: int, *, limit: int) -> list[HandoverItem]:
    """Up to ``limit`` items of a batch after ``position``, in order: a batch of an export."""
    query = (
        select(HandoverItem)
        .where(HandoverItem.batch_id == batch_id, HandoverItem.position > position)
        .order_by(col(HandoverItem.position))
        .limit(limit)
    )
    return list(session.exec(query).all())


def create_batch(session: Session, data: HandoverBatchCreate, *, actor: Actor) -> HandoverBatch:
    """A draft batch for the caller's department, with the items listed in ``data`` (if any)."""
    batch = HandoverBatch(
        title=data.title,
        planned_date=data.planned_date,
        department_id=actor.required_organization_id,
        created_by_id=actor.user_id,
    )
    session.add(batch)
    audit.record_create(session, actor=actor, action="handover_batch.create", row=batch)
    session.flush()
    if data.items or data.asset_ids:
        _append(session, batch, data.items, data.asset_ids, blame=_json_blame, actor=actor)
    return batch


def add_items(
    session: Session, batch_id: uuid.UUID, data: HandoverItemsIn, *, actor: Actor, expected_version: int
) -> HandoverBatch:
    """Add items to a draft batch: all of them, or none with every problem named (``items.N.…``, ``asset_ids.N``)."""
    batch = _draft(session, batch_id, actor=actor, expected_version=expected_version)
    if not data.items and not data.asset_ids:
        raise InvalidRows("Nothing to add.", errors=[FieldError("items", "list at least one item or asset id")])
    return _append(session, batch, data.items, data.asset_ids, blame=_json_blame, actor=actor)


def import_items(
    session: Session, batch_id: uuid.UUID, content: bytes, *, actor: Actor, expected_version: int, limits: Limits
) -> HandoverBatch:
    """Add every row of an uploaded CSV or XLSX to a draft batch, or none: a bad file is refused (422) with its
    problems, each with its line and column, including serial numbers already in the register, already in the
    batch, or on two rows of the file.

    The file is read and checked, within ``limits``, before the first statement: no transaction is open and
    the batch is not locked meanwhile, so however long a file takes (``limits.seconds`` at most), other
    requests' writes do not wait for it.
    """
    parsed = columns.parse_file(content, limits=limits)
    if not parsed.rows and not parsed.errors:
        parsed.errors.add(FieldError("file", "the file has a header but no rows", line=2))
    batch = _draft(session, batch_id, actor=actor, expected_version=expected_version)
    serial_header = columns.SERIAL.header

    def blame(index: int, message: str) -> FieldError:
        return columns.error(parsed.rows[index].line, serial_header, columns.SERIAL.key, message)

    assets = [row.asset for row in parsed.rows]
    return _append(session, batch, assets, [], blame=blame, actor=actor, known_errors=parsed.errors)


def _draft(session: Session, batch_id: uuid.UUID, *, actor: Actor, expected_version: int) -> HandoverBatch:
    batch = get_batch(session, batch_id, actor=actor, for_update=True)
    batch.require_version(expected_version)
    require_status(batch.status, HandoverStatus.DRAFT, doing="add items to", noun="handover batch")
    return batch


def _json_blame(index: int, message: str) -> FieldError:
    return FieldError(f"items.{index}.serial_number", message)


def _append(
    session: Session,
    batch: HandoverBatch,
    new: Sequence[AssetIn],
    asset_ids: Sequence[uuid.UUID],
    *,
    blame: Blame,
    actor: Actor,
    known_errors: ErrorList | None = None,
) -> HandoverBatch:
    errors = known_errors if known_errors is not None else ErrorList()
    if batch.item_count + len(new) + len(asset_ids) > MAX_ITEMS:
        errors.add(FieldError("items", f"a batch holds at most {MAX_ITEMS} items; open another batch"))
    errors.extend(_serial_problems(session, batch, new, blame=blame, actor=actor))
    existing = _existing_assets(session, batch, asset_ids, errors=errors)
    if errors:
        errors.in_file_order()
        raise errors.refusal("Nothing was added")
    rows = [_item_row(batch, asset, to_fen(asset.original_value), None) for asset in new]
    rows += [_item_row(batch, asset, asset.original_value_fen, asset.id) for asset in existing]
    for position, row in enumerate(rows, start=batch.item_count + 1):
        row["position"] = position
    if rows:
        insert_rows(session, core_table(HandoverItem), rows)
    with audit.change(session, actor=actor, action="handover_batch.add_items", row=batch):
        batch.item_count += len(rows)
    session.flush()
    return batch


def _item_row(
    batch: HandoverBatch, asset: AssetIn | Asset, value_fen: int, asset_id: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "batch_id": batch.id,
        "kind": asset.kind,
        "name": asset.name,
        "serial_number": asset.serial_number,
        "model": asset.model,
        "location": asset.location,
        "spec": asset.spec,
        "purchase_date": asset.purchase_date,
        "original_value_fen": value_fen,
        "asset_id": asset_id,
        "result": InspectionResult.PENDING,
        "defect_note": "",
    }


def _serial_problems(
    session: Session, batch: HandoverBatch, new: Sequence[AssetIn], *, blame: Blame, actor: Actor
) -> list[FieldError]:
    """Serial numbers that are already in the register, already in this batch, or listed twice."""
    problems: list[FieldError] = []
    first: dict[str, int] = {}
    for index, asset in enumerate(new):
        if asset.serial_number in first:
            problems.append(
                blame(
                    index,
                    f"serial number {asset.serial_number} is listed twice (also item {first[asset.serial_number]})",
                )
            )
        else:
            first[asset.serial_number] = index
    serials = list(first)
    in_register: dict[str, Asset] = {}
    in_batch: dict[str, int] = {}
    for start in range(0, len(serials), _CHUNK):
        chunk = serials[start : start + _CHUNK]
        in_register.update(
            (asset.serial_number, asset)
            for asset in session.exec(select(Asset).where(col(Asset.serial_number).in_(chunk)))
        )
        in_batch.update(
            session.exec(
                select(HandoverItem.serial_number, HandoverItem.position).where(
                    HandoverItem.batch_id == batch.id, col(HandoverItem.serial_number).in_(chunk)
                )
            ).all()
        )
    for serial, index in first.items():
        if serial in in_register:
            owned = in_register[serial]
            hint = (
                f" (asset {owned.id} of your department, {owned.state.value}: list it by asset_ids instead)"
                if owned.owner_department_id == batch.department_id and owned.state == AssetState.IN_DEPARTMENT
                else ""
            )
            problems.append(blame(index, f"serial number {serial} is already in the register{hint}"))
        elif serial in in_batch:
            problems.append(blame(index, f"serial number {serial} is already item {in_batch[serial]} of this batch"))
    return problems


def _existing_assets(
    session: Session, batch: HandoverBatch, asset_ids: Sequence[uuid.UUID], *, errors: ErrorList
) -> list[Asset]:
    """The department's own assets named by id, if each may join this batch: in the department's hands and in
    no open batch (this one included)."""
    if not asset_ids:
        return []
    owned = {
        asset.id: asset
        for asset in session.exec(
            select(Asset).where(col(Asset.id).in_(asset_ids), Asset.owner_department_id == batch.department_id)
        )
    }
    listed = set(
        session.exec(
            select(HandoverItem.asset_id)
            .join(HandoverBatch, col(HandoverBatch.id) == HandoverItem.batch_id)
            .where(col(HandoverItem.asset_id).in_(asset_ids), col(HandoverBatch.status).in_(OPEN))
        ).all()
    )
    found: list[Asset] = []
    seen: set[uuid.UUID] = set()
    for index, asset_id in enumerate(asset_ids):
        asset = owned.get(asset_id)
        if asset is None:
            errors.add(FieldError(f"asset_ids.{index}", "no such asset"))
        elif asset.state != AssetState.IN_DEPARTMENT:
            errors.add(FieldError(f"asset_ids.{index}", f"the asset is {asset.state.value}, not in_department"))
        elif asset_id in listed or asset_id in seen:
            errors.add(FieldError(f"asset_ids.{index}", "the asset is already listed in an open handover batch"))
        else:
            found.append(asset)
        seen.add(asset_id)
    return found


def inspection_report(session: Session, batch: HandoverBatch) -> InspectionReport:
    """Counts (overall and by kind) and every defect. Callers check first that the reader may see the batch."""
    counts = session.exec(
        select(HandoverItem.kind, HandoverItem.result, func.count())
        .where(HandoverItem.batch_id == batch.id)
        .group_by(col(HandoverItem.kind), col(HandoverItem.result))
    ).all()
    by_kind: dict[AssetKind, dict[InspectionResult, int]] = {}
    for kind, result, count in counts:
        by_kind.setdefault(AssetKind(kind), {})[InspectionResult(result)] = count
    rejected = session.exec(
        select(HandoverItem)
        .where(HandoverItem.batch_id == batch.id, HandoverItem.result == InspectionResult.REJECTED)
        .order_by(col(HandoverItem.position))
    ).all()
    total = sum(count for _, _, count in counts)
    accepted = sum(count for _, result, count in counts if result == InspectionResult.ACCEPTED)
    pending = sum(count for _, result, count in counts if result == InspectionResult.PENDING)
    return InspectionReport(
        batch_id=batch.id,
        status=batch.status,
        total=total,
        accepted=accepted,
        rejected=len(rejected),
        pending=pending,
        complete=total > 0 and pending == 0,
        by_kind=[
            KindCount(
                kind=kind,
                kind_label=kind.label,
                total=sum(results.values()),
                accepted=results.get(InspectionResult.ACCEPTED, 0),
                rejected=results.get(InspectionResult.REJECTED, 0),
                pending=results.get(InspectionResult.PENDING, 0),
            )
            for kind in AssetKind
            if (results := by_kind.get(kind))
        ],
        defects=[Defect.model_validate(item, update={"item_id": item.id}) for item in rejected],
    )
