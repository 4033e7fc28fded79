"""What a ticket's steps tell people (DESIGN §9): one call per step, written to the outbox with the step."""

import uuid
from collections.abc import Sequence

from sqlmodel import Session

from operations.tickets.models import BreachKind, Ticket
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K

_BREACH = {BreachKind.RESPONSE: "响应", BreachKind.RESOLUTION: "解决"}


def tell(session: Session, ticket: Ticket, kind: K, *, actor: Actor, detail: str = "") -> None:
    """Tell whoever hears of ``kind`` about ``ticket`` (its department only, among departments)."""
    title = f"{kind.label}：{ticket.number} {ticket.title}"
    body = f"工单 {ticket.number}（{ticket.priority.value} {ticket.priority.label}）《{ticket.title}》：{kind.label}。"
    outbox.emit(
        session,
        kind=kind,
        subject=ticket,
        title=title,
        body=f"{body}{detail}",
        department_ids=[ticket.department_id],
        payload=_payload(ticket.id, ticket.number, ticket.priority.value, ticket.status.value),
        actor=actor,
    )


def tell_breaches(session: Session, ticket: Ticket, breaches: Sequence[BreachKind], *, actor: Actor) -> None:
    for breach in breaches:
        tell(session, ticket, K.TICKET_BREACHED, actor=actor, detail=f"{_BREACH[breach]}时限已过。")


def _payload(ticket_id: uuid.UUID, number: str, priority: str, status: str) -> dict[str, str]:
    return {"ticket_id": str(ticket_id), "number": number, "priority": priority, "status": status}
