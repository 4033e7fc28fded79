""" "Awaiting me" (待我处理): what waits on the acting person's action, read through each domain's services with
the same scoping as the API, so a department counts only its own. The shell is the one part that knows every
domain; each count is one bounded COUNT through a list function the API uses too."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from billing.statements import service as statements
from billing.statements.models import StatementStatus
from contracts.agreements import service as agreements
from contracts.agreements.models import ContractStatus
from contracts.instances import service as instances
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseStatus
from operations.assets.handover import service as handovers
from operations.assets.handover.models import HandoverStatus
from operations.tickets import service as tickets
from operations.tickets.models import TicketStatus
from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.pagination import PageRequest, Slice
from opscenter.timekeeping import Period, today
from sla.maintenance import service as maintenance
from sla.maintenance.models import MaintenanceStatus
from sla.ratings import service as ratings
from sla.ratings.usage import instances_in_use

Counter = Callable[[Session, Actor, PageRequest], int]


@dataclass(frozen=True)
class Waiting:
    key: str  # also the navigation badge it fills, where the navigation has one
    label: str
    count: int
    href: str | None  # the page where it is done, when the console has one


def _total(rows: Slice[Any]) -> int:
    return rows.total or 0


def _ratings_due(session: Session, actor: Actor, page: PageRequest) -> int:
    """This month's ratings the department has not given yet, of the instances it may rate."""
    month = Period.of(today())
    used = instances.list_instances(session, actor=actor, page=dataclasses.replace(page, limit=500, count=False))
    wanted = {(instance.id, month) for instance in used}
    ratable = instances_in_use(session, department_id=actor.required_organization_id, wanted=wanted)
    given = ratings.list_ratings(
        session, actor=actor, page=dataclasses.replace(page, limit=500, count=False), period=month
    )
    return len({instance_id for instance_id, _ in ratable} - {rating.service_instance_id for rating in given})


# (key, label, roles, href, counter)
_ITEMS: list[tuple[str, str, frozenset[Role], str | None, Counter]] = [
    (
        "purchase_requests",
        "待审批的采购申请",
        frozenset({Role.BUREAU}),
        "/console/purchase-requests?status=submitted",
        lambda s, a, p: _total(purchasing.list_requests(s, actor=a, page=p, status=[PurchaseStatus.SUBMITTED])),
    ),
    (
        "returned_requests",
        "被退回待修改的采购申请",
        frozenset({Role.DEPARTMENT}),
        "/console/purchase-requests?status=returned",
        lambda s, a, p: _total(purchasing.list_requests(s, actor=a, page=p, status=[PurchaseStatus.RETURNED])),
    ),
    (
        "contracts",
        "待审批的合同（四眼原则：起草人以外的管理局人员审批）",
        frozenset({Role.BUREAU}),
        "/console/contracts?status=draft",
        lambda s, a, p: _total(agreements.list_contracts(s, actor=a, page=p, status=[ContractStatus.DRAFT])),
    ),
    (
        "maintenance",
        "待审批的维护窗口",
        frozenset({Role.BUREAU}),
        "/console/maintenance?status=proposed",
        lambda s, a, p: _total(maintenance.list_windows(s, actor=a, page=p, status=[MaintenanceStatus.PROPOSED])),
    ),
    (
        "inspections",
        "待验收的接管批次",
        frozenset({Role.OPERATOR}),
        "/console/handovers?status=submitted",
        lambda s, a, p: _total(handovers.list_batches(s, actor=a, page=p, status=[HandoverStatus.SUBMITTED])),
    ),
    (
        "signatures",
        "待签署的接管批次",
        frozenset({Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT}),
        "/console/handovers?status=inspected",
        lambda s, a, p: _total(handovers.list_batches(s, actor=a, page=p, status=[HandoverStatus.INSPECTED])),
    ),
    (
        "statements_to_issue",
        "待出具的结算单",
        frozenset({Role.OPERATOR}),
        "/console/statements?status=draft",
        lambda s, a, p: _total(statements.list_statements(s, actor=a, page=p, status=[StatementStatus.DRAFT])),
    ),
    (
        "statements_to_approve",
        "待审批的结算单",
        frozenset({Role.BUREAU}),
        "/console/statements?status=issued",
        lambda s, a, p: _total(statements.list_statements(s, actor=a, page=p, status=[StatementStatus.ISSUED])),
    ),
    (
        "disputes",
        "待处理的结算申诉",
        frozenset({Role.BUREAU}),
        "/console/statements?status=issued",
        lambda s, a, p: statements.count_open_disputes(s, actor=a),
    ),
    (
        "tickets",
        "待受理的新工单",
        frozenset({Role.OPERATOR}),
        "/console/tickets?status=new",
        lambda s, a, p: _total(
            tickets.list_tickets(s, actor=a, page=p, filters=tickets.TicketFilter(status=[TicketStatus.NEW]))
        ),
    ),
    (
        "tickets_in_progress",
        "处理中的工单",
        frozenset({Role.OPERATOR}),
        "/console/tickets?status=in_progress",
        lambda s, a, p: _total(
            tickets.list_tickets(s, actor=a, page=p, filters=tickets.TicketFilter(status=[TicketStatus.IN_PROGRESS]))
        ),
    ),
    (
        "tickets_to_answer",
        "待我方反馈的工单",
        frozenset({Role.DEPARTMENT}),
        "/console/tickets?status=pending_customer",
        lambda s, a, p: _total(
            tickets.list_tickets(
                s, actor=a, page=p, filters=tickets.TicketFilter(status=[TicketStatus.PENDING_CUSTOMER])
            )
        ),
    ),
    (
        "tickets_to_confirm",
        "已解决待确认的工单",
        frozenset({Role.DEPARTMENT}),
        "/console/tickets?status=resolved",
        lambda s, a, p: _total(
            tickets.list_tickets(s, actor=a, page=p, filters=tickets.TicketFilter(status=[TicketStatus.RESOLVED]))
        ),
    ),
    ("ratings", "本月待评价的服务", frozenset({Role.DEPARTMENT}), "/console/ratings", _ratings_due),
]


def waiting_for(session: Session, actor: Actor, page: PageRequest) -> list[Waiting]:
    """Everything that waits on ``actor``, one entry per kind of work their role does, with its count."""
    counting = dataclasses.replace(page, limit=1, cursor=None, count=True)
    return [
        Waiting(key, label, counter(session, actor, counting), href)
        for key, label, roles, href, counter in _ITEMS
        if actor.role in roles
    ]


def badge_counts(waiting: list[Waiting]) -> dict[str, int]:
    """The navigation's badges: the total, and the counts of the pages that have a badge."""
    counts = {"total": sum(item.count for item in waiting)}
    counts["purchase_requests"] = sum(
        item.count for item in waiting if item.key in ("purchase_requests", "returned_requests")
    )
    counts["ratings"] = sum(item.count for item in waiting if item.key == "ratings")
    counts["handovers"] = sum(item.count for item in waiting if item.key in ("inspections", "signatures"))
    counts["statements"] = sum(item.count for item in waiting if item.key.startswith(("statements", "disputes")))
    counts["maintenance"] = sum(item.count for item in waiting if item.key == "maintenance")
    counts["tickets"] = sum(item.count for item in waiting if item.key.startswith("tickets"))
    return counts
