"""The SLA pull failing: the operations center and the admin hear of it once per failed day (the job retries
hourly; one message per hour would drown the real ones)."""

from datetime import date

from sqlmodel import Session

from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind


def tell_pull_failing(session: Session, day: date, failure: str, *, actor: Actor) -> None:
    outbox.emit(
        session,
        kind=NotificationKind.SLA_PULL_FAILING,
        subject=outbox.Subject("sla_pull", day.isoformat()),
        title=f"SLA 数据采集失败：{day.isoformat()}",
        body=f"从 Prometheus 采集 {day.isoformat()} 的 SLA 数据失败（{failure[:500]}），该日未写入任何数据，"
        "采集任务每小时重试。请检查 Prometheus 是否可用。",
        payload={"day": day.isoformat()},
        actor=actor,
        dedupe_key=f"sla-pull-failing:{day.isoformat()}",
    )
