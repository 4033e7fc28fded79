"""Rating periods about to close: last month's ratings close when its statement is approved (or the bureau closes
them), so each department is told, once per contract and month, while the period is still open."""

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from contracts.instances.models import ServiceInstance
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI, Period, business_date
from sla.ratings.models import RatingPeriod, RatingPeriodStatus


def remind_open_periods(session: Session, context: JobContext[Actor]) -> None:
    last_month = str(Period.of(business_date(context.now).replace(day=1) - timedelta(days=1)))
    open_periods = session.exec(
        select(RatingPeriod).where(RatingPeriod.period == last_month, RatingPeriod.status == RatingPeriodStatus.OPEN)
    ).all()
    for period in open_periods:
        departments = session.exec(
            select(col(ServiceInstance.department_id)).where(ServiceInstance.contract_id == period.contract_id)
        ).all()
        outbox.emit(
            session,
            kind=NotificationKind.RATING_PERIOD_CLOSING,
            subject=period,
            title=f"{period.period} 服务评价即将截止",
            body=f"{period.period} 的服务评价将在该月结算单审批时关闭，尚未评价的服务请尽快通过接口或控制台评价。",
            department_ids=departments,
            payload={"rating_period_id": period.id, "period": period.period},
            actor=context.actor,
            dedupe_key=f"rating-period-closing:{period.id}",
        )


JOBS = [
    Job(
        id="ratings.closing_reminders",
        description="Tell departments that last month's rating period is still open and closes with its statement",
        trigger=CronTrigger(hour=9, minute=10, timezone=SHANGHAI),
        run=remind_open_periods,
    ),
]
