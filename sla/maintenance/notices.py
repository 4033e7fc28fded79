"""What a maintenance window's steps tell people (DESIGN §9): one call per step, into the outbox."""

from sqlmodel import Session, select

from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K
from opscenter.timekeeping import SHANGHAI
from sla.maintenance.models import MaintenanceWindow, MaintenanceWindowInstance


def tell(session: Session, window: MaintenanceWindow, kind: K, *, actor: Actor) -> None:
    """The bureau hears of a proposal; the operations center (and, once approved, the departments whose instances
    it touches) of the decision."""
    departments = session.exec(
        select(MaintenanceWindowInstance.department_id).where(
            MaintenanceWindowInstance.maintenance_window_id == window.id
        )
    ).all()
    shown = "%Y-%m-%d %H:%M"
    span = f"{window.starts_at.astimezone(SHANGHAI):{shown}} 至 {window.ends_at.astimezone(SHANGHAI):{shown}}"
    note = f"意见：{window.decision_note}" if window.decision_note else ""
    outbox.emit(
        session,
        kind=kind,
        subject=window,
        title=f"{kind.label}：{span}",
        body=f"维护窗口 {span}（{window.reason}）：{kind.label}。{note}",
        department_ids=departments,
        payload={"maintenance_window_id": window.id, "status": window.status.value},
        actor=actor,
    )
