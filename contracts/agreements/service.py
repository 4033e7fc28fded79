"""Contracts as records: drafting from approved purchase requests, reading, and who sees what.

A department reads only contracts it benefits from, and of them only its own lines; the operations
center reads the contracts it supplies once approved; the bureau and auditors read everything.
"""

import enum
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Exists, bindparam
from sqlmodel import Session, col, exists, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.agreements import notices
from contracts.agreements.content import DateSpan, build_lines, fill_version, require_ceiling_covers, resolve_terms
from contracts.agreements.models import (
    Contract,
    ContractCreate,
    ContractLine,
    ContractLineIn,
    ContractLinePublic,
    ContractPublic,
    ContractStatus,
    ContractUpdate,
    ContractVersion,
    ContractVersionPublic,
    VersionStatus,
)
from contracts.purchasing.models import PurchaseRequest, PurchaseStatus
from contracts.terms import ContractTerms
from opscenter.audit import service as audit
from opscenter.errors import Conflict, FieldError, InvalidInput, NotFound
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrgKind
from opscenter.money import from_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.search import haystack, matches
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status

_HIDDEN_FROM_OUTSIDE = (ContractStatus.DRAFT, ContractStatus.DISCARDED)


def _benefits(department_id: uuid.UUID) -> Exists:
    """SQL: the contract has an approved version with a line for this department."""
    return exists(
        select(ContractLine.id)
        .join(ContractVersion, col(ContractVersion.id) == ContractLine.contract_version_id)
        .where(
            ContractVersion.contract_id == Contract.id,
            ContractVersion.status == VersionStatus.APPROVED,
            ContractLine.department_id == department_id,
        )
    )


def _scoped(query: SelectOfScalar[Contract], actor: Actor) -> SelectOfScalar[Contract]:
    if actor.is_department:
        return query.where(_benefits(actor.required_organization_id))
    if actor.is_operator:
        return query.where(
            Contract.supplier_id == actor.required_organization_id, col(Contract.status).not_in(_HIDDEN_FROM_OUTSIDE)
        )
    return query


def get_contract(session: Session, contract_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Contract:
    """A contract the actor may see. ``for_update`` locks its row first: every step on a contract or its
    versions then decides on the state it sees, and a second step racing it waits and finds the new
    version (412) instead of a half-changed aggregate."""
    return get_visible(
        session, Contract, contract_id, actor=actor, scope=_scoped, noun="contract", for_update=for_update
    )


class ContractSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NUMBER = "number"


_ORDERS = {
    ContractSort.NEWEST: (col(Contract.id).desc(),),
    ContractSort.OLDEST: (col(Contract.id),),
    ContractSort.NUMBER: (col(Contract.number), col(Contract.id)),
}
SEARCHED = haystack(col(Contract.number), col(Contract.title))


def list_contracts(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: Collection[ContractStatus] | None = None,
    q: str | None = None,
    sort: ContractSort = ContractSort.NEWEST,
) -> Slice[Contract]:
    """In the order ``sort`` says; ``q`` finds a part of the number or the title."""
    query = select(Contract).order_by(*_ORDERS[sort])
    if q:
        query = query.where(matches(SEARCHED, q))
    query = any_of(query, Contract.status, status)
    return keyset(session, _scoped(query, actor), page)


def versions_of(session: Session, contract: Contract, *, actor: Actor, page: PageRequest) -> Slice[ContractVersion]:
    """The versions a reader may see, oldest first: drafts of amendments stay inside the bureau."""
    # (contract, number) is unique; the id makes the order total for the keyset cursor on its own.
    query = _readable_versions(contract, actor).order_by(col(ContractVersion.number), col(ContractVersion.id))
    return keyset(session, query, page)


def get_version(session: Session, contract: Contract, number: int, *, actor: Actor) -> ContractVersion:
    version = session.exec(_readable_versions(contract, actor).where(ContractVersion.number == number)).first()
    if version is None:
        raise NotFound("contract version")
    return version


def _readable_versions(contract: Contract, actor: Actor) -> SelectOfScalar[ContractVersion]:
    query = select(ContractVersion).where(ContractVersion.contract_id == contract.id)
    if not actor.sees_all:  # drafts of amendments stay inside the bureau (and its auditors)
        query = query.where(ContractVersion.status == VersionStatus.APPROVED)
    return query


# An approved version never changes (an amendment is a new version): its parsed terms are kept per process.
_TERMS_BY_VERSION: dict[uuid.UUID, ContractTerms] = {}
_TERMS_KEPT = 1000


def terms_in_force(session: Session, contract_id: uuid.UUID) -> ContractTerms:
    """The terms of the contract's latest approved version, for domains that apply them (tickets' SLA targets).

    Not scoped: the caller reached the contract through something the actor may see (a service instance).
    One indexed query; the terms are parsed once per version and process.
    """
    version_id = session.execute(_VERSION_IN_FORCE, {"contract_id": contract_id}).scalar()
    if version_id is None:
        raise NotFound("contract")
    terms = _TERMS_BY_VERSION.get(version_id)
    if terms is None:
        terms = ContractTerms.model_validate(session.get_one(ContractVersion, version_id).terms)
        if len(_TERMS_BY_VERSION) >= _TERMS_KEPT:
            _TERMS_BY_VERSION.clear()
        _TERMS_BY_VERSION[version_id] = terms
    return terms


# Built once and run with the contract's id: every ticket opened asks it, and building the statement cost more
# than running it.
_VERSION_IN_FORCE = (
    select(ContractVersion.id)
    .join(Contract, col(Contract.id) == ContractVersion.contract_id)
    .where(Contract.id == bindparam("contract_id"), ContractVersion.number == Contract.current_version)
    .limit(1)
)


def shown_version(versions: list[ContractVersion], contract: Contract) -> ContractVersion:
    """What a contract says now: its latest approved version, or version 1 while it is a draft."""
    number = contract.current_version or 1
    return next(version for version in versions if version.number == number)


def create_draft(session: Session, data: ContractCreate, *, actor: Actor) -> Contract:
    """A draft contract from approved purchase requests (of any departments), to be approved by a second user."""
    _require_free_number(session, data.number)
    requests = _unclaimed_approved_requests(session, data.purchase_request_ids)
    contract = Contract(
        number=data.number,
        title=data.title,
        procurement_method=data.procurement_method,
        signed_date=data.signed_date,
        start_date=data.start_date,
        supplier_id=_supplier(session, data.supplier_id),
        created_by_id=actor.user_id,
    )
    version = ContractVersion(
        contract_id=contract.id,
        number=1,
        effective_date=data.start_date,
        end_date=data.end_date,
        ceiling_fen=0,
        created_by_id=actor.user_id,
    )
    _write_content(session, version, data, requests)
    session.add_all([contract, version])
    audit.record_create(session, actor=actor, action="contract.create", row=contract)
    audit.record_create(session, actor=actor, action="contract_version.create", row=version, children=("lines",))
    for request in requests:
        with audit.change(session, actor=actor, action="purchase_request.contract", row=request):
            request.contract_id = contract.id
    notices.tell_awaiting_approval(session, contract, version, actor=actor)
    session.flush()
    return contract


def update_draft(
    session: Session, contract_id: uuid.UUID, data: ContractUpdate, *, actor: Actor, expected_version: int
) -> Contract:
    """Rewrite a draft contract wholesale; it keeps the purchase requests it was drafted from."""
    contract = get_contract(session, contract_id, actor=actor, for_update=True)
    contract.require_version(expected_version)
    require_status(contract.status, ContractStatus.DRAFT, doing="edit", noun="contract")
    if data.number != contract.number:
        _require_free_number(session, data.number)
    version = session.exec(
        select(ContractVersion).where(ContractVersion.contract_id == contract.id, ContractVersion.number == 1)
    ).one()
    requests = list(session.exec(select(PurchaseRequest).where(PurchaseRequest.contract_id == contract.id)).all())
    with (
        audit.change(session, actor=actor, action="contract.edit", row=contract),
        audit.change(session, actor=actor, action="contract_version.edit", row=version, children=("lines",)),
    ):
        for name in ("number", "title", "procurement_method", "signed_date", "start_date"):
            setattr(contract, name, getattr(data, name))
        version.effective_date = data.start_date
        version.lines.clear()
        session.flush()  # the old lines go first: the new ones reuse their numbers
        _write_content(session, version, data, requests)
        contract.updated_at = version.updated_at = utcnow()  # the lines are the contract: a new ETag either way
    session.flush()
    return contract


def _write_content(
    session: Session, version: ContractVersion, data: ContractCreate | ContractUpdate, requests: list[PurchaseRequest]
) -> None:
    lines_in = data.lines if data.lines is not None else _lines_from(requests)
    lines = build_lines(session, lines_in, version_id=version.id, period=DateSpan(data.start_date, data.end_date))
    if not lines:
        raise InvalidInput("lines", "a contract needs at least one line")
    require_ceiling_covers(data.ceiling, lines)
    fill_version(
        version,
        end_date=data.end_date,
        ceiling=data.ceiling,
        terms=resolve_terms(session, data.terms, lines),
        lines=lines,
    )


def _lines_from(requests: list[PurchaseRequest]) -> list[ContractLineIn]:
    return [
        ContractLineIn(
            service_id=item.service_id,
            department_id=request.department_id,
            quantity=item.quantity,
            start_date=item.start_date,
            end_date=item.end_date,
            unit_price=item.unit_price,
            purchase_item_id=item.id,
        )
        for request in requests
        for item in request.items
    ]


def _unclaimed_approved_requests(session: Session, request_ids: list[uuid.UUID]) -> list[PurchaseRequest]:
    """The approved requests a new contract claims, locked (in id order, so two drafts never deadlock):
    a draft racing this one for the same request waits, then finds it claimed (409) instead of a stale row."""
    if len(set(request_ids)) != len(request_ids):
        raise InvalidInput("purchase_request_ids", "a request is listed twice")
    locked = session.exec(
        select(PurchaseRequest)
        .where(col(PurchaseRequest.id).in_(request_ids))
        .order_by(col(PurchaseRequest.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {request.id: request for request in locked}
    requests = []
    for index, request_id in enumerate(request_ids):
        request = by_id.get(request_id)
        if request is None:
            raise InvalidInput(f"purchase_request_ids.{index}", "no such purchase request")
        if request.status != PurchaseStatus.APPROVED:
            raise InvalidInput(f"purchase_request_ids.{index}", f"the request is {request.status.value}, not approved")
        if request.contract_id is not None:
            raise Conflict(
                f"Purchase request {request.title!r} already belongs to another contract.",
                errors=[FieldError(f"purchase_request_ids.{index}", "already in a contract")],
            )
        requests.append(request)
    return requests


def _supplier(session: Session, supplier_id: uuid.UUID | None) -> uuid.UUID:
    if supplier_id is not None:
        supplier = session.get(Organization, supplier_id)
        if supplier is None or supplier.kind != OrgKind.OPERATOR:
            raise InvalidInput("supplier_id", "no such operations center")
        return supplier.id
    operators = session.exec(select(Organization.id).where(Organization.kind == OrgKind.OPERATOR)).all()
    if len(operators) != 1:
        raise InvalidInput("supplier_id", "required: there is not exactly one operations center to default to")
    return operators[0]


def _require_free_number(session: Session, number: str) -> None:
    if session.exec(select(Contract.id).where(Contract.number == number)).first() is not None:
        raise Conflict(f"Contract number {number!r} is taken.", errors=[FieldError("number", "already taken")])


# ---- what readers see ----------------------------------------------------------------------------------------------


def to_public(session: Session, contracts: list[Contract], *, actor: Actor) -> list[ContractPublic]:
    """Contracts as the reader may see them, each with its current version (three queries for any number)."""
    ids = [contract.id for contract in contracts]
    versions: dict[uuid.UUID, list[ContractVersion]] = defaultdict(list)
    for version in session.exec(select(ContractVersion).where(col(ContractVersion.contract_id).in_(ids))).all():
        versions[version.contract_id].append(version)
    request_ids: dict[uuid.UUID | None, list[uuid.UUID]] = defaultdict(list)
    requests = select(PurchaseRequest.id, PurchaseRequest.contract_id).where(col(PurchaseRequest.contract_id).in_(ids))
    if actor.is_department:  # its own requests only
        requests = requests.where(PurchaseRequest.department_id == actor.required_organization_id)
    for request_id, contract_id in session.exec(requests).all():
        request_ids[contract_id].append(request_id)
    answers = []
    for contract in contracts:
        current = shown_version(versions[contract.id], contract)
        lines = visible_lines(current, actor)
        pending = [v.number for v in versions[contract.id] if v.status == VersionStatus.DRAFT and v.number > 1]
        answers.append(
            ContractPublic.model_validate(
                contract,
                update={
                    "end_date": current.end_date,
                    "ceiling": current.ceiling,
                    "terms": current.contract_terms,
                    "lines": [ContractLinePublic.model_validate(line) for line in lines],
                    "total_value": from_fen(sum(line.total_value_fen for line in lines)),
                    "pending_amendment": pending[0] if pending and not actor.is_department else None,
                    "purchase_request_ids": sorted(request_ids[contract.id]),
                },
            )
        )
    return answers


def to_public_one(session: Session, contract: Contract, *, actor: Actor) -> ContractPublic:
    return to_public(session, [contract], actor=actor)[0]


def visible_lines(version: ContractVersion, actor: Actor) -> list[ContractLine]:
    if actor.is_department:
        return [line for line in version.lines if line.department_id == actor.organization_id]
    return list(version.lines)


def version_public(version: ContractVersion, *, actor: Actor) -> ContractVersionPublic:
    lines = visible_lines(version, actor)
    return ContractVersionPublic.model_validate(
        version,
        update={
            "ceiling": version.ceiling,
            "terms": version.contract_terms,
            "lines": [ContractLinePublic.model_validate(line) for line in lines],
            "total_value": from_fen(sum(line.total_value_fen for line in lines)),
        },
    )


@dataclass(frozen=True)
class BillingFacts:
    """What billing needs of a contract: its number, its supplier and the ceiling of its latest approved version."""

    number: str
    supplier_id: uuid.UUID
    ceiling_fen: int


def billing_facts(session: Session, contract_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, BillingFacts]:
    """The facts of each contract of ``contract_ids`` (approved or terminated ones), in one query."""
    if not contract_ids:
        return {}
    rows = session.exec(
        select(Contract.id, Contract.number, Contract.supplier_id, ContractVersion.ceiling_fen)
        .join(ContractVersion, col(ContractVersion.contract_id) == Contract.id)
        .where(col(Contract.id).in_(contract_ids), ContractVersion.number == Contract.current_version)
    ).all()
    return {row[0]: BillingFacts(row[1], row[2], row[3]) for row in rows}
