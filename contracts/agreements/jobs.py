"""Expiry reminders: 90, 30 and 7 days before a contract ends, each sent once, to the bureau and the
contract's beneficiary departments."""

from datetime import date

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from contracts.agreements.models import Contract, ContractStatus, ContractVersion
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrgKind
from opscenter.notifications import service as notifications
from opscenter.notifications.models import NotificationKind
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI, business_date

REMINDER_DAYS = (90, 30, 7)


def due_reminder(today: date, end_date: date) -> int | None:
    """The reminder due for a contract ending on ``end_date``: the nearest threshold it has crossed.

    A contract first seen 20 days before its end gets the 30-day reminder, not a stale 90-day one.
    """
    days_left = (end_date - today).days
    if days_left < 0:
        return None
    crossed = [threshold for threshold in REMINDER_DAYS if days_left <= threshold]
    return min(crossed) if crossed else None


def send_expiry_reminders(session: Session, context: JobContext[Actor]) -> None:
    today = business_date(context.now)
    bureaus = list(session.exec(select(Organization.id).where(Organization.kind == OrgKind.BUREAU)).all())
    in_force = session.exec(
        select(Contract, ContractVersion)
        .join(ContractVersion, col(ContractVersion.contract_id) == Contract.id)
        .where(Contract.status == ContractStatus.APPROVED, ContractVersion.number == Contract.current_version)
    ).all()
    for contract, current in in_force:
        threshold = due_reminder(today, current.end_date)
        if threshold is None:
            continue
        departments = {line.department_id for line in current.lines}
        notifications.notify(
            session,
            actor=context.actor,
            organization_ids=[*bureaus, *departments],
            kind=NotificationKind.CONTRACT_EXPIRY,
            title=f"合同 {contract.number} 将于 {current.end_date.isoformat()} 到期",
            body=f"《{contract.title}》（{contract.number}）将于 {current.end_date.isoformat()} 到期，"
            f"距今 {(current.end_date - today).days} 天。请及时安排续签或采购。",
            object_type="contract",
            object_id=contract.id,
            # Keyed on the end date too: an amendment that extends the contract earns fresh reminders.
            dedupe_key=f"contract-expiry:{contract.id}:{current.end_date.isoformat()}:{threshold}",
        )
    session.flush()


JOBS = [
    Job(
        id="contracts.expiry_reminders",
        description="Remind the bureau and beneficiaries 90, 30 and 7 days before a contract ends",
        trigger=CronTrigger(hour=8, minute=0, timezone=SHANGHAI),
        run=send_expiry_reminders,
    ),
]
