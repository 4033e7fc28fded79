"""Purchase requests as records: drafting, editing, reading. The approval steps live in flows.py."""

import enum
import uuid
from collections.abc import Collection

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.catalog import service as catalog
from contracts.purchasing.models import PurchaseItem, PurchaseRequest, PurchaseRequestIn, PurchaseStatus
from opscenter.audit import service as audit
from opscenter.db import insert_new
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible
from opscenter.search import haystack, matches
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status

EDITABLE = (PurchaseStatus.DRAFT, PurchaseStatus.RETURNED)


def _scoped(query: SelectOfScalar[PurchaseRequest], actor: Actor) -> SelectOfScalar[PurchaseRequest]:
    """A department sees its own requests; the operations center sees approved ones; the bureau and auditors all."""
    if actor.is_department:
        return query.where(PurchaseRequest.department_id == actor.required_organization_id)
    if actor.is_operator:
        return query.where(PurchaseRequest.status == PurchaseStatus.APPROVED)
    return query


def create_request(session: Session, data: PurchaseRequestIn, *, actor: Actor) -> PurchaseRequest:
    request = PurchaseRequest(
        title=data.title, department_id=actor.required_organization_id, created_by_id=actor.user_id
    )
    request.items = _items(session, data, request.id)
    insert_new(session, [request, *request.items])
    audit.record_create(session, actor=actor, action="purchase_request.create", row=request, children=("items",))
    return request


def get_request(session: Session, request_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> PurchaseRequest:
    """A request the actor may see. ``for_update`` locks its row first: a workflow step then decides on
    the state it sees, and a second step racing it waits and finds the new version (412)."""
    return get_visible(
        session, PurchaseRequest, request_id, actor=actor, scope=_scoped, noun="purchase request", for_update=for_update
    )


class RequestSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    TITLE = "title"  # by title, then newest first


_ORDERS = {
    RequestSort.NEWEST: (col(PurchaseRequest.id).desc(),),
    RequestSort.OLDEST: (col(PurchaseRequest.id),),
    RequestSort.TITLE: (col(PurchaseRequest.title), col(PurchaseRequest.id).desc()),
}
SEARCHED = haystack(col(PurchaseRequest.title), col(PurchaseRequest.decision_note))


def list_requests(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: Collection[PurchaseStatus] | None = None,
    department_id: uuid.UUID | None = None,
    q: str | None = None,
    sort: RequestSort = RequestSort.NEWEST,
) -> Slice[PurchaseRequest]:
    """In the order ``sort`` says; ``q`` finds a part of the title or of the decision's note."""
    query = _scoped(select(PurchaseRequest).order_by(*_ORDERS[sort]), actor)
    if q:
        query = query.where(matches(SEARCHED, q))
    query = any_of(query, PurchaseRequest.status, status)
    if department_id is not None:
        query = query.where(PurchaseRequest.department_id == department_id)
    return keyset(session, query, page)


def replace_request(
    session: Session, request_id: uuid.UUID, data: PurchaseRequestIn, *, actor: Actor, expected_version: int
) -> PurchaseRequest:
    """Rewrite a draft or returned request: its title and its whole list of items."""
    request = get_request(session, request_id, actor=actor, for_update=True)
    request.require_version(expected_version)
    require_status(request.status, *EDITABLE, doing="edit", noun="purchase request")
    with audit.change(session, actor=actor, action="purchase_request.edit", row=request, children=("items",)):
        request.title = data.title
        request.items = _items(session, data, request.id)
        # The items are the substance of a request: replacing them must bump its version (its ETag) as well.
        request.updated_at = utcnow()
    session.flush()
    return request


def _items(session: Session, data: PurchaseRequestIn, request_id: uuid.UUID) -> list[PurchaseItem]:
    items = []
    for position, item in enumerate(data.items):
        service = catalog.get_orderable(session, item.service_id, field=f"items.{position}.service_id")
        estimate = PurchaseItem.estimate_fen(item.quantity, service.list_price_fen, item.start_date, item.end_date)
        update = {
            "purchase_request_id": request_id,
            "position": position,
            "unit_price_fen": service.list_price_fen,
            "estimated_amount_fen": estimate,
        }
        items.append(PurchaseItem.model_validate(item, update=update))
    return items
