"""The console's navigation, by role: each person sees the pages their role may open, with the count of what
waits for them beside the pages that have one (filled in by ``/console/awaiting/counts``)."""

from dataclasses import dataclass

from opscenter.identity.actor import Actor
from opscenter.identity.models import Role

ADMIN, BUREAU, OPERATOR, DEPARTMENT, AUDITOR = Role.ADMIN, Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT, Role.AUDITOR


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    roles: frozenset[Role]
    count: str = ""  # the key of the awaiting count shown beside it (``opscenter.console.awaiting``)


def _link(label: str, href: str, *roles: Role, count: str = "") -> Link:
    return Link(label, href, frozenset(roles), count)


NAVIGATION = [
    _link("待我处理", "/console", *Role, count="total"),
    _link("一屏观天下", "/console/overview", BUREAU, OPERATOR, AUDITOR),
    _link("采购申请", "/console/purchase-requests", BUREAU, DEPARTMENT, AUDITOR, count="purchase_requests"),
    _link("合同", "/console/contracts", BUREAU, OPERATOR, DEPARTMENT, AUDITOR),
    _link("工单", "/console/tickets", OPERATOR, DEPARTMENT, BUREAU, AUDITOR, count="tickets"),
    _link("资产接管", "/console/handovers", BUREAU, OPERATOR, DEPARTMENT, AUDITOR, count="handovers"),
    _link("维护窗口", "/console/maintenance", BUREAU, OPERATOR, DEPARTMENT, AUDITOR, count="maintenance"),
    _link("结算单", "/console/statements", BUREAU, OPERATOR, DEPARTMENT, AUDITOR, count="statements"),
    _link("服务评价", "/console/ratings", BUREAU, DEPARTMENT, AUDITOR, count="ratings"),
    _link("审计日志", "/console/audit", AUDITOR, ADMIN),
    _link("组织", "/console/organizations", ADMIN, AUDITOR),
    _link("用户", "/console/users", ADMIN, AUDITOR),
    _link("API 密钥", "/console/api-keys", ADMIN, AUDITOR),
    _link("账户与会话", "/console/account", *Role),
]


def navigation_for(actor: Actor | None) -> list[Link]:
    if actor is None or actor.role is None:
        return []
    return [link for link in NAVIGATION if actor.role in link.roles]
