"""Tickets in the demo: last month's, nearly all closed, two of them late enough to cost a penalty; this month's in
every state, one waiting past its response target and one past its resolution target. Each step happens when it
plausibly did, so the SLA clocks, pauses and breaches are the tickets' own; the sweep then records the breaches of
the tickets still open, as the minute job would have."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from contracts.terms import Priority
from operations.tickets import flows
from operations.tickets import service as tickets
from operations.tickets.jobs import sweep
from operations.tickets.models import Ticket, TicketCreate, TicketKind
from opscenter.db import WithinTransaction
from opscenter.demo.cast import SEEDER, Cast
from opscenter.demo.province import DEPARTMENTS, OPERATOR_USER, Calendar, department_user
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from opscenter.timekeeping import replaying, utcnow

K, P = TicketKind, Priority
H, D = 60, 24 * 60  # minutes


@dataclass(frozen=True)
class TicketPlan:
    department: int  # index into DEPARTMENTS
    service: str  # catalog code of the department's instance
    kind: TicketKind
    priority: Priority
    title: str
    opened: int  # minutes before now; or, with last_month, minutes after last month began (Asia/Shanghai)
    steps: tuple[tuple[str, int], ...]  # (action, minutes after opening)
    last_month: bool = False
    by_operator: bool = False

    def opened_at(self, calendar: Calendar) -> datetime:
        if self.last_month:
            return calendar.at(calendar.last_month.first_day, 0) + timedelta(minutes=self.opened)
        return calendar.now - timedelta(minutes=self.opened)


def _day(day: int, hour: int, minute: int = 0) -> int:
    """Minutes from the start of last month to ``day`` (from 1) at ``hour:minute``."""
    return (day - 1) * D + hour * H + minute


DONE = (("ack", 8), ("start", 10), ("resolve", 3 * H), ("close", D), ("rate:5", D + 5))
TICKET_PLANS = (
    # last month
    TicketPlan(0, "ECS-4C8G", K.INCIDENT, P.P1, "电子健康档案系统无法访问", _day(5, 9, 12), DONE, True),
    TicketPlan(
        1,
        "RDS-MYSQL",
        K.INCIDENT,
        P.P1,
        "户籍数据库主库宕机",
        _day(9, 2, 40),
        (("ack", 25), ("start", 30), ("resolve", 5 * H + 20), ("close", 2 * D), ("rate:2", 2 * D + 30)),
        True,
    ),
    TicketPlan(
        2,
        "APP-OPS",
        K.INCIDENT,
        P.P2,
        "社保卡业务办理系统响应缓慢",
        _day(11, 10, 5),
        (("ack", 20), ("start", 30), ("pend", H), ("resume", D), ("resolve", D + 3 * H), ("close", 2 * D)),
        True,
    ),
    TicketPlan(3, "OSS-TB", K.SERVICE_REQUEST, P.P3, "申请新增存储桶", _day(12, 14), DONE, True),
    TicketPlan(
        4,
        "WAF",
        K.INCIDENT,
        P.P2,
        "门户网站遭受扫描攻击告警",
        _day(15, 16, 30),
        (("ack", 10), ("start", 15), ("resolve", 4 * H)),
        True,
    ),
    TicketPlan(
        5,
        "ECS-4C8G",
        K.CHANGE,
        P.P4,
        "申请调整安全组规则",
        _day(16, 9, 30),
        (("ack", 3 * H), ("start", D), ("resolve", 2 * D), ("close", 3 * D)),
        True,
    ),
    TicketPlan(
        6,
        "OSS-TB",
        K.COMPLAINT,
        P.P3,
        "上月工单处理不及时",
        _day(18, 11),
        (("ack", 2 * H), ("start", 3 * H), ("resolve", D), ("close", D + H), ("rate:3", D + 2 * H)),
        True,
    ),
    TicketPlan(
        7,
        "RDS-MYSQL",
        K.INCIDENT,
        P.P2,
        "数据库连接数耗尽",
        _day(20, 16, 30),
        (("ack", 12), ("start", 15), ("resolve", 10 * H), ("close", D), ("rate:3", D + 10)),
        True,
    ),
    TicketPlan(8, "ECS-4C8G", K.INCIDENT, P.P1, "医保结算系统中断", _day(23, 8, 55), DONE, True),
    TicketPlan(9, "RDS-PG", K.SERVICE_REQUEST, P.P3, "申请数据库扩容评估", _day(25, 10), DONE, True),
    TicketPlan(
        0,
        "DATA-EXCH",
        K.INCIDENT,
        P.P2,
        "数据交换任务积压",
        _day(27, 15),
        (("ack", 45), ("start", 50), ("resolve", 6 * H), ("close", D)),
        True,
    ),
    # this month, one in each state
    TicketPlan(3, "ECS-4C8G", K.SERVICE_REQUEST, P.P3, "申请开通数据库只读账号", 50, ()),
    TicketPlan(4, "WAF", K.INCIDENT, P.P2, "网站证书即将过期告警", 3 * H, ()),  # no one answered: response breach
    TicketPlan(2, "OSS-TB", K.SERVICE_REQUEST, P.P3, "申请调整存储配额", D, (("ack", 2 * H),)),
    TicketPlan(0, "APP-OPS", K.INCIDENT, P.P2, "预约挂号页面偶发报错", 5 * H, (("ack", 10), ("start", 20))),
    TicketPlan(1, "ECS-4C8G", K.INCIDENT, P.P1, "人口库查询服务超时", 2 * D, (("ack", 10), ("start", 15))),
    TicketPlan(
        5,
        "RDS-MYSQL",
        K.INCIDENT,
        P.P3,
        "不动产登记查询偶发超时",
        2 * D,
        (("ack", H), ("start", 2 * H), ("pend", 3 * H)),
    ),
    TicketPlan(
        6, "ECS-4C8G", K.CHANGE, P.P4, "申请新增监测数据采集主机", 3 * D, (("ack", H), ("start", D), ("resolve", 2 * D))
    ),
    TicketPlan(7, "ECS-4C8G", K.SERVICE_REQUEST, P.P3, "申请恢复误删文件", 6 * D, DONE),
    TicketPlan(
        8,
        "OSS-TB",
        K.INCIDENT,
        P.P2,
        "医保影像上传失败",
        4 * D,
        (("ack", 10), ("start", 20), ("resolve", D), ("reopen", 2 * D)),
    ),
    TicketPlan(9, "ECS-4C8G", K.CHANGE, P.P3, "计划内操作系统补丁更新", D + 2 * H, (("ack", 5),), by_operator=True),
)


def add_tickets(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Every ticket opened and moved when its plan says, all in the order it happened; then the sweep."""
    instance_of = _instances(session)
    events = sorted(
        (plan.opened_at(calendar) + timedelta(minutes=minutes), index, step)
        for index, plan in enumerate(TICKET_PLANS)
        for step, minutes in enumerate((0, *(minutes for _, minutes in plan.steps)))
    )
    opened: dict[int, Ticket] = {}
    for when, index, step in events:
        if when >= utcnow():
            continue  # not happened yet: the ticket waits in the state it reached
        plan = TICKET_PLANS[index]
        department = cast[department_user(DEPARTMENTS[plan.department])]
        with replaying(when):
            if step == 0:
                data = TicketCreate(
                    kind=plan.kind,
                    priority=plan.priority,
                    title=plan.title,
                    description=f"{DEPARTMENTS[plan.department].short}：{plan.title}",
                    service_instance_id=instance_of[(cast.department(DEPARTMENTS[plan.department]), plan.service)],
                )
                opened[index] = tickets.open_ticket(
                    session, data, actor=cast[OPERATOR_USER] if plan.by_operator else department
                )
            else:
                action = plan.steps[step - 1][0]
                opened[index] = _act(
                    session, opened[index], action, operator=cast[OPERATOR_USER], department=department
                )
    result = sweep(WithinTransaction(session), JobContext(now=utcnow(), actor=SEEDER))
    states: dict[str, int] = {}
    for ticket in session.exec(select(Ticket)).all():
        states[ticket.status.value] = states.get(ticket.status.value, 0) + 1
    breached = session.exec(select(Ticket.id).where(col(Ticket.resolution_breached_at).is_not(None))).all()
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return (
        f"tickets: {summary}; {len(breached)} past their resolution target ({result.auto_closed} closed by the sweep)"
    )


def has_tickets(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(Ticket.id).where(Ticket.title == TICKET_PLANS[0].title)).first() is not None


def _instances(session: Session) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    rows = session.exec(
        select(ServiceInstance.department_id, CatalogService.code, ServiceInstance.id).join(
            CatalogService, col(CatalogService.id) == ServiceInstance.service_id
        )
    ).all()
    return {(department_id, code): instance_id for department_id, code, instance_id in rows}


def _act(session: Session, ticket: Ticket, action: str, *, operator: Actor, department: Actor) -> Ticket:
    """One step of a ticket's life, by whoever takes it: the operations center works, the department answers,
    confirms, reopens and rates."""
    name, _, score = action.partition(":")
    version = ticket.version
    match name:
        case "ack":
            return flows.acknowledge(session, ticket.id, actor=operator, expected_version=version)
        case "start":
            return flows.start(session, ticket.id, actor=operator, expected_version=version)
        case "pend":
            question = "请提供故障时段的业务日志和操作截图。"
            return flows.pend(session, ticket.id, actor=operator, expected_version=version, question=question)
        case "resume":
            return flows.resume(session, ticket.id, actor=department, expected_version=version)
        case "resolve":
            note = "已定位原因并处理，业务恢复正常。"
            return flows.resolve(session, ticket.id, actor=operator, expected_version=version, note=note)
        case "close":
            return flows.close(session, ticket.id, actor=department, expected_version=version)
        case "reopen":
            reason = "问题再次出现，请继续处理。"
            return flows.reopen(session, ticket.id, actor=department, expected_version=version, reason=reason)
        case "rate":
            return flows.rate_satisfaction(
                session, ticket.id, actor=department, expected_version=version, score=int(score), comment=_SAID[score]
            )
    raise ValueError(f"unknown ticket step {action!r}")


_SAID = {"5": "响应迅速，处理专业。", "4": "处理及时。", "3": "基本满意。", "2": "恢复太慢，影响业务。"}
