"""Maintenance windows in the demo: two approved ones last month (the probes were down during them, and the SLA
cuts them out), and in the coming fortnight one in each state. Each proposed by the operations center before it
starts and decided by the bureau, when that plausibly happened."""

import uuid
from collections import defaultdict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from opscenter.demo.cast import Cast
from opscenter.demo.province import APPROVER, DEPARTMENTS, OPERATOR_USER, Calendar
from opscenter.timekeeping import SHANGHAI, replaying, utcnow
from sla.maintenance import flows as windows
from sla.maintenance import service as maintenance
from sla.maintenance.models import MaintenanceWindow, MaintenanceWindowCreate


@dataclass(frozen=True)
class WindowPlan:
    reason: str
    services: tuple[str, ...]  # catalog codes
    departments: tuple[int, ...]  # indexes into DEPARTMENTS
    day: int  # the day of last month (from 1), or days from today
    hour: int
    hours: int
    fate: str  # "approved", "proposed", "rejected", "withdrawn"
    last_month: bool = False
    note: str = ""

    def starts(self, calendar: Calendar) -> datetime:
        first: date = calendar.last_month.first_day if self.last_month else calendar.today
        day = first + timedelta(days=self.day - 1 if self.last_month else self.day)
        return datetime.combine(day, time(self.hour), tzinfo=SHANGHAI)


WINDOW_PLANS = (
    WindowPlan(
        "数据库主备切换演练", ("RDS-MYSQL", "RDS-PG"), (0, 1, 2), 14, 22, 2, "approved", True, "同意，请提前通知"
    ),
    WindowPlan("政务云核心交换机固件升级", ("ECS-4C8G",), (3, 4, 5, 6), 21, 1, 3, "approved", True, "同意"),
    WindowPlan("对象存储集群扩容", ("OSS-TB",), tuple(range(10)), 6, 22, 4, "approved", note="同意，避开工作时间"),
    WindowPlan("网站应用防火墙规则库升级", ("WAF",), tuple(range(7)), 9, 23, 1, "proposed"),
    WindowPlan(
        "数据共享交换平台版本升级",
        ("DATA-EXCH",),
        tuple(range(6)),
        3,
        20,
        6,
        "rejected",
        note="与月末结算时段冲突，请改期",
    ),
    WindowPlan("应用运维平台证书更换", ("APP-OPS",), (0, 1), 5, 12, 1, "withdrawn"),
)


def add_maintenance(session: Session, cast: Cast, calendar: Calendar) -> str:
    states: dict[str, int] = defaultdict(int)
    for plan in WINDOW_PLANS:
        states[_window(session, cast, calendar, plan).status.value] += 1
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return f"{len(WINDOW_PLANS)} windows ({summary})"


def has_maintenance(session: Session, cast: Cast, calendar: Calendar) -> bool:
    reason = WINDOW_PLANS[0].reason
    return session.exec(select(MaintenanceWindow.id).where(MaintenanceWindow.reason == reason)).first() is not None


def _window(session: Session, cast: Cast, calendar: Calendar, plan: WindowPlan) -> MaintenanceWindow:
    operator, bureau = cast[OPERATOR_USER], cast[APPROVER]
    starts = plan.starts(calendar)
    data = MaintenanceWindowCreate(
        service_instance_ids=_instances(session, cast, plan),
        starts_at=starts,
        ends_at=starts + timedelta(hours=plan.hours),
        reason=plan.reason,
    )
    with _at(starts - timedelta(days=5)):
        window = maintenance.propose(session, data, actor=operator)
    if plan.fate == "proposed":
        return window
    with _at(starts - timedelta(days=3)):
        version = window.version
        if plan.fate == "approved":
            return windows.approve(session, window.id, actor=bureau, expected_version=version, note=plan.note)
        if plan.fate == "rejected":
            return windows.reject(session, window.id, actor=bureau, expected_version=version, reason=plan.note)
        return windows.withdraw(session, window.id, actor=operator, expected_version=version)


def _instances(session: Session, cast: Cast, plan: WindowPlan) -> list[uuid.UUID]:
    departments = [cast.department(DEPARTMENTS[index]) for index in plan.departments]
    return list(
        session.exec(
            select(ServiceInstance.id)
            .join(CatalogService, col(CatalogService.id) == ServiceInstance.service_id)
            .where(col(CatalogService.code).in_(plan.services), col(ServiceInstance.department_id).in_(departments))
            .order_by(col(ServiceInstance.id))
        ).all()
    )


def _at(instant: datetime) -> AbstractContextManager[None]:
    """Replay ``instant`` if it has passed; a future one (a proposal for next week's window) happens now."""
    return replaying(min(instant, utcnow() - timedelta(seconds=1)))


def approved_downtime(session: Session, calendar: Calendar) -> dict[str, list[tuple[datetime, datetime]]]:
    """The approved windows since last month began, by instance id: the probes were down during them."""
    instance_ids = session.exec(select(ServiceInstance.id)).all()
    start = datetime.combine(calendar.last_month.first_day, time(0), tzinfo=SHANGHAI)
    found = maintenance.approved_windows(session, instance_ids, start=start, end=utcnow())
    return {
        str(instance_id): [(_instant(window.start_ms), _instant(window.end_ms)) for window in spans]
        for instance_id, spans in found.items()
    }


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
