"""The approval of a purchase request: submit → approve | reject | return → (revise) → submit.

Each step takes the version the actor read (If-Match), checks the state it starts from, and is
audited. Approval reserves the estimated cost in the department's fiscal-year budgets, or refuses
(409) naming the shortfall and changing nothing.
"""

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlmodel import Session

from contracts.budgets import service as budgets
from contracts.catalog import service as catalog
from contracts.pricing import cost_by_year
from contracts.purchasing import notices
from contracts.purchasing.models import PurchaseRequest, PurchaseStatus
from contracts.purchasing.service import EDITABLE, get_request
from opscenter.audit import service as audit
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status, said


def submit(session: Session, request_id: uuid.UUID, *, actor: Actor, expected_version: int) -> PurchaseRequest:
    """Send a draft (or a revised, returned request) to the bureau, at today's list prices."""
    request = get_request(session, request_id, actor=actor, for_update=True)
    request.require_version(expected_version)
    require_status(request.status, *EDITABLE, doing="submit", noun="purchase request")
    with audit.change(session, actor=actor, action="purchase_request.submit", row=request, children=("items",)):
        for position, item in enumerate(request.items):
            service = catalog.get_orderable(session, item.service_id, field=f"items.{position}.service_id")
            item.price_at(service.list_price_fen)
        request.status, request.submitted_at = PurchaseStatus.SUBMITTED, utcnow()
        request.decision_note = ""
    notices.tell_request(session, request, Notice.PURCHASE_SUBMITTED, actor=actor)
    session.flush()
    return request


def approve(
    session: Session, request_id: uuid.UUID, *, actor: Actor, expected_version: int, note: str = ""
) -> PurchaseRequest:
    request = _decidable(session, request_id, actor=actor, expected_version=expected_version, doing="approve")
    department = session.get_one(Organization, request.department_id)
    budgets.reserve(
        session, department=department, purchase_request_id=request.id, cost_by_year=estimated_cost_by_year(request)
    )
    return _decide(session, request, PurchaseStatus.APPROVED, actor=actor, note=note, action="approve", word="note")


def reject(
    session: Session, request_id: uuid.UUID, *, actor: Actor, expected_version: int, reason: str
) -> PurchaseRequest:
    request = _decidable(session, request_id, actor=actor, expected_version=expected_version, doing="reject")
    return _decide(session, request, PurchaseStatus.REJECTED, actor=actor, note=reason, action="reject", word="reason")


def send_back(
    session: Session, request_id: uuid.UUID, *, actor: Actor, expected_version: int, comment: str
) -> PurchaseRequest:
    """Return a request to its department for revision, saying what to change."""
    request = _decidable(session, request_id, actor=actor, expected_version=expected_version, doing="return")
    return _decide(
        session, request, PurchaseStatus.RETURNED, actor=actor, note=comment, action="return", word="comment"
    )


def estimated_cost_by_year(request: PurchaseRequest) -> dict[int, Decimal]:
    """List price × quantity, prorated by days, per fiscal year, summed over the items."""
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    for item in request.items:
        for year, amount in cost_by_year(item.quantity, item.unit_price, item.start_date, item.end_date).items():
            by_year[year] += amount
    return dict(by_year)


def _decidable(
    session: Session, request_id: uuid.UUID, *, actor: Actor, expected_version: int, doing: str
) -> PurchaseRequest:
    request = get_request(session, request_id, actor=actor, for_update=True)
    request.require_version(expected_version)
    require_status(request.status, PurchaseStatus.SUBMITTED, doing=doing, noun="purchase request")
    return request


_DECIDED = {
    PurchaseStatus.APPROVED: Notice.PURCHASE_APPROVED,
    PurchaseStatus.REJECTED: Notice.PURCHASE_REJECTED,
    PurchaseStatus.RETURNED: Notice.PURCHASE_RETURNED,
}


def _decide(
    session: Session,
    request: PurchaseRequest,
    status: PurchaseStatus,
    *,
    actor: Actor,
    note: str,
    action: str,
    word: str,
) -> PurchaseRequest:
    """Record the bureau's decision on a submitted request: its words are kept in ``decision_note`` and, under the
    vocabulary's name (``word``: note, reason or comment), in the audit event."""
    words = said(**{word: note})
    with audit.change(session, actor=actor, action=f"purchase_request.{action}", row=request, words=words):
        request.status, request.decided_at, request.decided_by_id = status, utcnow(), actor.user_id
        request.decision_note = note
    notices.tell_request(session, request, _DECIDED[status], actor=actor)
    session.flush()
    return request
