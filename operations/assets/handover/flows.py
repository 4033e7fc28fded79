"""The handover: draft → submitted (inspection) → inspected → three signatures → completed; a draft may be
cancelled.

Submitting enters the batch's new assets in the register as ``in_handover`` (owned by the department);
inspection accepts or rejects each item (a rejected asset goes back ``in_department``); once every item is
inspected the department, the operations center and the bureau each sign once, in any order. The third
signature takes the accepted assets over — ``operated``, by the operations center that signed, from that
business date — all of them in its one transaction.

Signing and If-Match. Every signature is a row (unique per batch and party) and changes the batch's
representation, so it bumps the batch's version (its ETag) like any other change. But two parties signing
at the same moment must both succeed, although each read the same version. The batch row is locked, so the
signatures are applied one after the other; and the precondition a signer states with If-Match is "I sign
the batch as I read it", whose content (items, inspection) is frozen from the version at which inspection
completed (``signable_since_version``). So a signature is accepted with any ETag from that version up to the
current one, and refused (412) with an older one. The batch completes when a signature finds the other
two already there, under the lock: exactly once.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from operations.assets.handover import notices
from operations.assets.handover.models import (
    HandoverBatch,
    HandoverItem,
    HandoverSignature,
    HandoverStatus,
    InspectionIn,
    InspectionResult,
    SigningParty,
)
from operations.assets.handover.service import get_batch
from operations.assets.register import bulk
from operations.assets.register import service as register
from operations.assets.register.models import Asset, AssetState
from opscenter.audit import service as audit
from opscenter.errors import Conflict, FieldError, Forbidden, InvalidRows, PreconditionFailed
from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.timekeeping import business_date, utcnow
from opscenter.workflow import require_status

PARTY_OF_ROLE = {
    Role.DEPARTMENT: SigningParty.DEPARTMENT,
    Role.OPERATOR: SigningParty.OPERATOR,
    Role.BUREAU: SigningParty.BUREAU,
}
_CHUNK = 1000


def submit(session: Session, batch_id: uuid.UUID, *, actor: Actor, expected_version: int) -> HandoverBatch:
    """Hand the batch to the operations center for inspection: its new assets enter the register (owned by the
    department, ``in_handover``) and the assets it lists by id go ``in_handover``; 409 naming every serial
    number another batch registered meanwhile, and every listed asset that is no longer in the department."""
    batch = get_batch(session, batch_id, actor=actor, for_update=True)
    batch.require_version(expected_version)
    require_status(batch.status, HandoverStatus.DRAFT, doing="submit", noun="handover batch")
    if batch.item_count == 0:
        raise Conflict("An empty handover batch cannot be submitted; add items first.")
    # Plain rows, not ORM objects: a batch may hold 20,000 items.
    items = (
        session.execute(
            select(HandoverItem.__table__).where(HandoverItem.batch_id == batch.id).order_by(col(HandoverItem.position))  # type: ignore[attr-defined]
        )
        .mappings()
        .all()
    )
    new = [item for item in items if item["asset_id"] is None]
    listed = [item for item in items if item["asset_id"] is not None]
    _check_serials_free(session, new)
    hand_over = {"state": AssetState.IN_HANDOVER, "handover_batch_id": batch.id}
    misfits = set(
        bulk.transition_many(
            session,
            [item["asset_id"] for item in listed],
            require=AssetState.IN_DEPARTMENT,
            values=hand_over,
            actor=actor,
            action="hand_over",
            batch_id=batch.id,
        )
    )
    if misfits:
        errors = [
            FieldError(f"items.{item['position']}.asset_id", "the asset is no longer in_department")
            for item in listed
            if item["asset_id"] in misfits
        ]
        raise Conflict(f"{len(errors)} listed asset(s) are no longer in the department's hands.", errors=errors)
    asset_ids = bulk.register_many(
        session,
        new,
        owner_department_id=batch.department_id,
        state=AssetState.IN_HANDOVER,
        actor=actor,
        batch_id=batch.id,
    )
    if new:
        items_table = HandoverItem.__table__  # type: ignore[attr-defined]
        links = [{"item": item["id"], "asset": asset_id} for item, asset_id in zip(new, asset_ids, strict=True)]
        session.execute(  # one statement, executed for every item
            update(items_table).where(items_table.c.id == bindparam("item")).values(asset_id=bindparam("asset")), links
        )
    with audit.change(session, actor=actor, action="handover_batch.submit", row=batch):
        batch.status, batch.submitted_at = HandoverStatus.SUBMITTED, utcnow()
    notices.tell(session, batch, Notice.HANDOVER_SUBMITTED, actor=actor)
    session.flush()
    return batch


def _check_serials_free(session: Session, new: Sequence[Mapping[Any, Any]]) -> None:
    positions = {item["serial_number"]: item["position"] for item in new}
    serials = list(positions)
    taken: list[str] = []
    for start in range(0, len(serials), _CHUNK):
        chunk = serials[start : start + _CHUNK]
        taken += session.exec(select(Asset.serial_number).where(col(Asset.serial_number).in_(chunk))).all()
    if taken:
        errors = [
            FieldError(f"items.{positions[serial]}.serial_number", f"{serial} is already in the register")
            for serial in sorted(taken, key=positions.__getitem__)
        ]
        raise Conflict(f"{len(taken)} serial number(s) entered the register since they were listed.", errors=errors)


def _locked_assets(session: Session, asset_ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, Asset]:
    ids = [asset_id for asset_id in asset_ids if asset_id is not None]
    found: dict[uuid.UUID, Asset] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(Asset).where(col(Asset.id).in_(chunk)).with_for_update()
        found.update((asset.id, asset) for asset in session.exec(query))
    return found


def inspect(
    session: Session, batch_id: uuid.UUID, data: InspectionIn, *, actor: Actor, expected_version: int
) -> HandoverBatch:
    """Record the operations center's decisions on items of a submitted batch (each item is decided once);
    a rejected item's asset goes back ``in_department``. When no item is left pending, the batch is
    ``inspected`` and may be signed."""
    batch = get_batch(session, batch_id, actor=actor, for_update=True)
    batch.require_version(expected_version)
    require_status(batch.status, HandoverStatus.SUBMITTED, doing="inspect", noun="handover batch")
    items = _decided_items(session, batch, data)
    now = utcnow()
    with audit.change(session, actor=actor, action="handover_batch.inspect", row=batch), session.no_autoflush:
        rejected = _locked_assets(
            session, [items[d.item_id].asset_id for d in data.decisions if d.result == InspectionResult.REJECTED]
        )
        for decision in data.decisions:
            item = items[decision.item_id]
            item.result, item.defect_note = decision.result, decision.defect_note
            item.inspected_at, item.inspected_by_id = now, actor.user_id
            if decision.result == InspectionResult.REJECTED and item.asset_id is not None:
                asset = rejected[item.asset_id]
                with register.tracked(
                    session, asset, actor=actor, action="reject", batch_id=batch.id, note=decision.defect_note
                ):
                    asset.state = AssetState.IN_DEPARTMENT
        session.flush()
        if data.accept_remaining:
            session.execute(
                update(HandoverItem)
                .where(col(HandoverItem.batch_id) == batch.id, col(HandoverItem.result) == InspectionResult.PENDING)
                .values(result=InspectionResult.ACCEPTED, inspected_at=now, inspected_by_id=actor.user_id)
                .execution_options(synchronize_session=False)
            )
        counts = dict(
            session.exec(
                select(HandoverItem.result, func.count())
                .where(HandoverItem.batch_id == batch.id)
                .group_by(col(HandoverItem.result))
            ).all()
        )
        batch.accepted_count = counts.get(InspectionResult.ACCEPTED, 0)
        batch.rejected_count = counts.get(InspectionResult.REJECTED, 0)
        if counts.get(InspectionResult.PENDING, 0) == 0:
            batch.status, batch.inspection_completed_at = HandoverStatus.INSPECTED, now
            batch.signable_since_version = batch.version + 1  # the version this change gives the batch
    if batch.status == HandoverStatus.INSPECTED:
        notices.tell_inspected(session, batch, actor=actor)
    session.flush()
    return batch


def _decided_items(session: Session, batch: HandoverBatch, data: InspectionIn) -> dict[uuid.UUID, HandoverItem]:
    """The items the decisions name; 422 naming each unknown or repeated one, 409 for one already decided."""
    wanted = [decision.item_id for decision in data.decisions]
    items: dict[uuid.UUID, HandoverItem] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(HandoverItem).where(HandoverItem.batch_id == batch.id, col(HandoverItem.id).in_(chunk))
        items.update((item.id, item) for item in session.exec(query))
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for index, item_id in enumerate(wanted):
        if item_id not in items:
            errors.append(FieldError(f"decisions.{index}.item_id", "no such item in this batch"))
        elif item_id in seen:
            errors.append(FieldError(f"decisions.{index}.item_id", "decided twice in this request"))
        seen.add(item_id)
    if errors:
        raise InvalidRows(f"{len(errors)} decision(s) name no item of this batch.", errors=errors)
    decided = [
        FieldError(
            f"decisions.{index}.item_id", f"item {items[item_id].position} is already {items[item_id].result.value}"
        )
        for index, item_id in enumerate(wanted)
        if items[item_id].result != InspectionResult.PENDING
    ]
    if decided:
        raise Conflict(f"{len(decided)} item(s) were already inspected; a decision is final.", errors=decided)
    return items


def sign(
    session: Session, batch_id: uuid.UUID, *, actor: Actor, expected_version: int, comment: str = ""
) -> HandoverBatch:
    """Sign an inspected batch for the actor's party (department, operations center or bureau), once. The
    third signature completes the handover. See the module docstring for how If-Match is honoured."""
    party = PARTY_OF_ROLE.get(actor.role) if actor.role is not None else None
    if party is None or actor.user_id is None:
        raise Forbidden("Only a department, operations center or bureau user signs a handover.")
    user_id = actor.user_id
    batch = get_batch(session, batch_id, actor=actor, for_update=True)
    _require_signable_version(batch, expected_version)
    require_status(batch.status, HandoverStatus.INSPECTED, doing="sign", noun="handover batch")
    earlier = next((signature for signature in batch.signatures if signature.party == party), None)
    if earlier is not None:
        raise Conflict(
            f"The {party.value} ({party.label}) has already signed this batch: {earlier.signed_by_name}, "
            f"{earlier.signed_at.isoformat()}."
        )
    now = utcnow()
    with audit.change(session, actor=actor, action="handover_batch.sign", row=batch, children=("signatures",)):
        batch.signatures.append(
            HandoverSignature(
                batch_id=batch.id,
                party=party,
                signed_by_id=user_id,
                signed_by_name=actor.user_name,
                organization_id=actor.required_organization_id,
                signed_at=now,
                comment=comment,
            )
        )
        batch.updated_at = now  # a signature changes the batch: its version (ETag) moves
    if len(batch.signatures) == len(SigningParty):
        _complete(session, batch, actor=actor)
    session.flush()
    return batch


def _require_signable_version(batch: HandoverBatch, expected: int) -> None:
    if batch.status == HandoverStatus.INSPECTED and batch.signable_since_version is not None:
        if not batch.signable_since_version <= expected <= batch.version:
            raise PreconditionFailed(
                f"You read version {expected}; the inventory as inspected is version {batch.signable_since_version} "
                f"or later (now {batch.version}). Fetch it again, check it, and sign."
            )
        return
    batch.require_version(expected)


def _complete(session: Session, batch: HandoverBatch, *, actor: Actor) -> None:
    """The accepted assets become ``operated`` by the operations center that signed, all in this transaction."""
    operator_signature = next(s for s in batch.signatures if s.party == SigningParty.OPERATOR)
    now = utcnow()
    transfer_date = business_date(now)
    accepted = session.exec(
        select(HandoverItem.asset_id).where(
            HandoverItem.batch_id == batch.id, HandoverItem.result == InspectionResult.ACCEPTED
        )
    ).all()
    take_over = {
        "state": AssetState.OPERATED,
        "operator_organization_id": operator_signature.organization_id,
        "transferred_on": transfer_date,
        "handover_batch_id": batch.id,
    }
    misfits = bulk.transition_many(
        session,
        [asset_id for asset_id in accepted if asset_id is not None],
        require=AssetState.IN_HANDOVER,
        values=take_over,
        actor=actor,
        action="take_over",
        batch_id=batch.id,
    )
    if misfits:  # only handover steps move an asset in handover: this would be a bug, not a user's mistake
        raise Conflict(f"{len(misfits)} accepted asset(s) are no longer in handover; nothing was taken over.")
    with audit.change(session, actor=actor, action="handover_batch.complete", row=batch):
        batch.status, batch.completed_at, batch.transfer_date = HandoverStatus.COMPLETED, now, transfer_date
        batch.operator_organization_id = operator_signature.organization_id
    notices.tell(session, batch, Notice.HANDOVER_COMPLETED, actor=actor)


def cancel(session: Session, batch_id: uuid.UUID, *, actor: Actor, expected_version: int) -> HandoverBatch:
    """The department withdraws a batch it has not submitted; nothing entered the register."""
    batch = get_batch(session, batch_id, actor=actor, for_update=True)
    batch.require_version(expected_version)
    require_status(batch.status, HandoverStatus.DRAFT, doing="cancel", noun="handover batch")
    with audit.change(session, actor=actor, action="handover_batch.cancel", row=batch):
        batch.status, batch.cancelled_at = HandoverStatus.CANCELLED, utcnow()
    session.flush()
    return batch
