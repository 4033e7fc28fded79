"""A contract's life: approval by a second bureau user, amendments (new versions, approved the same
way), termination, and discarding a draft. Every step takes If-Match and is audited."""

import uuid

from sqlmodel import Session, col, select

from contracts.agreements import notices
from contracts.agreements.content import DateSpan, build_lines, fill_version, require_ceiling_covers
from contracts.agreements.models import (
    AmendmentCreate,
    Contract,
    ContractStatus,
    ContractVersion,
    Termination,
    VersionStatus,
)
from contracts.agreements.service import get_contract, get_version
from contracts.purchasing.models import PurchaseRequest
from opscenter.audit import service as audit
from opscenter.errors import Conflict, Forbidden, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status, said


def approve(
    session: Session, contract_id: uuid.UUID, *, actor: Actor, expected_version: int, note: str = ""
) -> Contract:
    """Bring a draft contract into force. Four eyes: whoever drafted it cannot approve it. The approver's ``note``
    goes in the audit event (the contract's history)."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    contract.require_version(expected_version)
    require_status(contract.status, ContractStatus.DRAFT, doing="approve", noun="contract")
    if contract.created_by_id == actor.user_id:
        raise Forbidden("You drafted this contract; a second bureau user must approve it.")
    version = get_version(session, contract, 1, actor=actor)
    _approve_version(session, version, actor=actor)
    with audit.change(session, actor=actor, action="contract.approve", row=contract, words=said(note=note)):
        contract.status, contract.current_version = ContractStatus.APPROVED, 1
    session.flush()
    return contract


def discard(session: Session, contract_id: uuid.UUID, *, actor: Actor, expected_version: int) -> Contract:
    """Abandon a draft; its purchase requests become free for another contract."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    contract.require_version(expected_version)
    require_status(contract.status, ContractStatus.DRAFT, doing="discard", noun="contract")
    version = get_version(session, contract, 1, actor=actor)
    with audit.change(session, actor=actor, action="contract_version.discard", row=version):
        version.status = VersionStatus.DISCARDED
    for request in session.exec(select(PurchaseRequest).where(PurchaseRequest.contract_id == contract.id)).all():
        with audit.change(session, actor=actor, action="purchase_request.release", row=request):
            request.contract_id = None
    with audit.change(session, actor=actor, action="contract.discard", row=contract):
        contract.status = ContractStatus.DISCARDED
    session.flush()
    return contract


def terminate(
    session: Session, contract_id: uuid.UUID, data: Termination, *, actor: Actor, expected_version: int
) -> Contract:
    """End a contract early, from a date and for a reason."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    contract.require_version(expected_version)
    require_status(contract.status, ContractStatus.APPROVED, doing="terminate", noun="contract")
    current = get_version(session, contract, contract.current_version, actor=actor)
    if not contract.start_date <= data.terminated_on <= current.end_date:
        raise InvalidInput(
            "terminated_on", f"must be within the contract period {DateSpan(contract.start_date, current.end_date)}"
        )
    _require_no_pending_amendment(session, contract)
    with audit.change(session, actor=actor, action="contract.terminate", row=contract):
        contract.status, contract.terminated_on = ContractStatus.TERMINATED, data.terminated_on
        contract.termination_reason = data.reason
    session.flush()
    return contract


def amend(session: Session, contract_id: uuid.UUID, data: AmendmentCreate, *, actor: Actor) -> ContractVersion:
    """Draft the next version of an approved contract; it takes effect once a second bureau user approves it."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    require_status(contract.status, ContractStatus.APPROVED, doing="amend", noun="contract")
    _require_no_pending_amendment(session, contract)
    current = get_version(session, contract, contract.current_version, actor=actor)
    if not current.effective_date < data.effective_date <= current.end_date:
        raise InvalidInput(
            "effective_date",
            f"must fall after {current.effective_date.isoformat()} (when version "
            f"{current.number} took effect) and by {current.end_date.isoformat()}",
        )
    end_date = data.end_date or current.end_date
    ceiling = data.ceiling if data.ceiling is not None else current.ceiling
    version = ContractVersion(
        contract_id=contract.id,
        number=current.number + 1,
        effective_date=data.effective_date,
        end_date=end_date,
        ceiling_fen=0,
        note=data.note,
        created_by_id=actor.user_id,
    )
    lines = build_lines(
        session,
        data.lines,
        version_id=version.id,
        period=DateSpan(contract.start_date, end_date),
        previous=current.lines,
    )
    require_ceiling_covers(ceiling, lines)
    fill_version(version, end_date=end_date, ceiling=ceiling, terms=data.terms or current.contract_terms, lines=lines)
    session.add(version)
    audit.record_create(session, actor=actor, action="contract_version.create", row=version, children=("lines",))
    notices.tell_awaiting_approval(session, contract, version, actor=actor)
    session.flush()
    return version


def approve_amendment(
    session: Session, contract_id: uuid.UUID, number: int, *, actor: Actor, expected_version: int, note: str = ""
) -> ContractVersion:
    """Bring amendment ``number`` into force (four eyes, as the contract); the ``note`` goes in the contract's
    history with the amendment."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    version = get_version(session, contract, number, actor=actor)
    version.require_version(expected_version)
    require_status(contract.status, ContractStatus.APPROVED, doing="amend", noun="contract")
    if number == 1:
        raise Conflict("Version 1 is the contract itself: approve the contract.")
    require_status(version.status, VersionStatus.DRAFT, doing="approve", noun="contract amendment")
    if version.created_by_id == actor.user_id:
        raise Forbidden("You drafted this amendment; a second bureau user must approve it.")
    _approve_version(session, version, actor=actor)
    with audit.change(session, actor=actor, action="contract.amend", row=contract, words=said(note=note)):
        contract.current_version = version.number
    session.flush()
    return version


def discard_amendment(
    session: Session, contract_id: uuid.UUID, number: int, *, actor: Actor, expected_version: int
) -> ContractVersion:
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    version = get_version(session, contract, number, actor=actor)
    version.require_version(expected_version)
    if number == 1:
        raise Conflict("Version 1 is the contract itself: discard the contract.")
    require_status(version.status, VersionStatus.DRAFT, doing="discard", noun="contract amendment")
    with audit.change(session, actor=actor, action="contract_version.discard", row=version):
        version.status = VersionStatus.DISCARDED
    session.flush()
    return version


def _approve_version(session: Session, version: ContractVersion, *, actor: Actor) -> None:
    require_status(version.status, VersionStatus.DRAFT, doing="approve", noun="contract version")
    with audit.change(session, actor=actor, action="contract_version.approve", row=version):
        version.status, version.approved_by_id, version.approved_at = VersionStatus.APPROVED, actor.user_id, utcnow()


def _require_no_pending_amendment(session: Session, contract: Contract) -> None:
    pending = session.exec(
        select(ContractVersion.number).where(
            ContractVersion.contract_id == contract.id,
            ContractVersion.status == VersionStatus.DRAFT,
            col(ContractVersion.number) > 1,
        )
    ).first()
    if pending is not None:
        raise Conflict(f"Amendment {pending} awaits approval; approve or discard it first.")
