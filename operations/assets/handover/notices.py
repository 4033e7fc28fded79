"""What a handover's steps tell people (DESIGN §9): one call per step, into the outbox."""

from sqlmodel import Session

from operations.assets.handover.models import HandoverBatch
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K


def tell(session: Session, batch: HandoverBatch, kind: K, *, actor: Actor) -> None:
    counts = f"共 {batch.item_count} 项，验收通过 {batch.accepted_count} 项，退回 {batch.rejected_count} 项。"
    outbox.emit(
        session,
        kind=kind,
        subject=batch,
        title=f"{kind.label}：《{batch.title}》",
        body=f"接管批次《{batch.title}》：{kind.label}。{counts}",
        department_ids=[batch.department_id],
        payload={"handover_id": batch.id, "status": batch.status.value},
        actor=actor,
    )


def tell_inspected(session: Session, batch: HandoverBatch, *, actor: Actor) -> None:
    """Inspection done: the department hears the result, and all three parties that their signatures are due."""
    tell(session, batch, K.HANDOVER_INSPECTED, actor=actor)
    tell(session, batch, K.HANDOVER_AWAITING_SIGNATURE, actor=actor)
