"""Next year's working calendar: from December on, the admin is told (once a year) when neither the package nor
the overrides know next year, before tickets opened in January are refused for want of it (DESIGN §3)."""

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from opscenter.calendar.service import working_calendar
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind
from opscenter.scheduler import Job, JobContext
from opscenter.timekeeping import SHANGHAI, business_date

WARN_FROM_MONTH = 12  # the State Council publishes the schedule in November


def warn_unknown_next_year(session: Session, context: JobContext[Actor]) -> None:
    today = business_date(context.now)
    year = today.year + 1
    if today.month < WARN_FROM_MONTH or working_calendar(session).knows(year):
        return
    outbox.emit(
        session,
        kind=NotificationKind.CALENDAR_UNKNOWN,
        subject=outbox.Subject("calendar_year", str(year)),
        title=f"{year} 年工作日历尚未录入",
        body=f"系统尚不知道 {year} 年的法定节假日与调休安排。请按国务院办公厅公布的安排录入日历例外，"
        f"否则 {year} 年按工作时间计时的工单将无法计算时限。",
        actor=context.actor,
        dedupe_key=f"calendar-unknown:{year}",
    )


JOBS = [
    Job(
        id="calendar.next_year_watch",
        description="Tell the admin, from December, that next year's working calendar is not entered yet",
        trigger=CronTrigger(hour=9, minute=5, timezone=SHANGHAI),
        run=warn_unknown_next_year,
    ),
]
