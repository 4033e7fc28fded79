"""What a purchase request's steps tell people (DESIGN §9): one call per step, into the outbox."""

from sqlmodel import Session

from contracts.purchasing.models import PurchaseRequest
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K


def tell_request(session: Session, request: PurchaseRequest, kind: K, *, actor: Actor) -> None:
    """A purchase request's step: the bureau hears of a submission, the department of the decision."""
    note = f"意见：{request.decision_note}" if request.decision_note else ""
    outbox.emit(
        session,
        kind=kind,
        subject=request,
        title=f"{kind.label}：《{request.title}》",
        body=f"采购申请《{request.title}》：{kind.label}。{note}",
        department_ids=[request.department_id],
        payload={"purchase_request_id": request.id, "status": request.status.value},
        actor=actor,
    )
