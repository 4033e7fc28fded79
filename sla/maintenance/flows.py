"""A maintenance window's decision: proposed → approved | rejected (by the bureau) | withdrawn (by the operator).

All three happen before the window starts: the SLA pull measures a day only once it is over, so an approval
never has to rewrite a measured day. Each step takes the version the actor read (If-Match), checks the state it
starts from, and is audited.
"""

import uuid

from sqlmodel import Session

from opscenter.audit import service as audit
from opscenter.errors import Conflict
from opscenter.identity.actor import Actor
from opscenter.notifications.models import NotificationKind as Notice
from opscenter.timekeeping import utcnow
from opscenter.workflow import require_status, said
from sla.maintenance import notices
from sla.maintenance.models import MaintenanceStatus, MaintenanceWindow
from sla.maintenance.service import get_window


def approve(
    session: Session, window_id: uuid.UUID, *, actor: Actor, expected_version: int, note: str = ""
) -> MaintenanceWindow:
    window = _decidable(session, window_id, actor=actor, expected_version=expected_version, doing="approve")
    return _decide(session, window, MaintenanceStatus.APPROVED, actor=actor, action="approve", note=note)


def reject(
    session: Session, window_id: uuid.UUID, *, actor: Actor, expected_version: int, reason: str
) -> MaintenanceWindow:
    window = _decidable(session, window_id, actor=actor, expected_version=expected_version, doing="reject")
    return _decide(session, window, MaintenanceStatus.REJECTED, actor=actor, action="reject", reason=reason)


def withdraw(session: Session, window_id: uuid.UUID, *, actor: Actor, expected_version: int) -> MaintenanceWindow:
    """The operator takes back a proposal the bureau has not decided yet."""
    window = _decidable(session, window_id, actor=actor, expected_version=expected_version, doing="withdraw")
    return _decide(session, window, MaintenanceStatus.WITHDRAWN, actor=actor, action="withdraw")


def _decidable(
    session: Session, window_id: uuid.UUID, *, actor: Actor, expected_version: int, doing: str
) -> MaintenanceWindow:
    window = get_window(session, window_id, actor=actor, for_update=True)
    window.require_version(expected_version)
    require_status(window.status, MaintenanceStatus.PROPOSED, doing=doing, noun="maintenance window")
    if window.starts_at <= utcnow():
        raise Conflict(
            f"Cannot {doing} a maintenance window that has started ({window.starts_at.isoformat()}): "
            "the measured days must not change after the fact."
        )
    return window


_DECIDED = {
    MaintenanceStatus.APPROVED: Notice.MAINTENANCE_APPROVED,
    MaintenanceStatus.REJECTED: Notice.MAINTENANCE_REJECTED,
}


def _decide(
    session: Session, window: MaintenanceWindow, status: MaintenanceStatus, *, actor: Actor, action: str, **words: str
) -> MaintenanceWindow:
    """Record a decision; its ``words`` (an approval's note, a rejection's reason) are the window's
    ``decision_note`` and, under their own names, in the audit event."""
    with audit.change(session, actor=actor, action=f"maintenance_window.{action}", row=window, words=said(**words)):
        window.status, window.decided_at, window.decided_by_id = status, utcnow(), actor.user_id
        window.decision_note = next(iter(words.values()), "")
    if status in _DECIDED:
        notices.tell(session, window, _DECIDED[status], actor=actor)
    session.flush()
    return window
