"""The bureau's side of the demo: catalog, budgets, purchase requests in every state, contracts, instances."""

import math
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from contracts.agreements import flows as contract_flows
from contracts.agreements import service as agreements
from contracts.agreements.models import Contract, ContractCreate, ContractStatus
from contracts.budgets import service as budgets
from contracts.budgets.models import BudgetCreate
from contracts.catalog import service as catalog
from contracts.catalog.models import CatalogService, CatalogServiceCreate
from contracts.instances import service as instances
from contracts.instances.models import ServiceInstance, ServiceInstanceCreate
from contracts.pricing import cost_by_year
from contracts.purchasing import flows as purchase_flows
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseItemIn, PurchaseRequest, PurchaseRequestIn
from opscenter.demo.cast import Cast
from opscenter.demo.province import (
    APPROVER,
    CATALOG,
    CONTRACT_PLANS,
    DEPARTMENTS,
    DRAFTER,
    OPERATOR_USER,
    REQUEST_PLANS,
    RETIRED,
    Calendar,
    ContractPlan,
    Department,
    RequestPlan,
    contract_number,
    department_user,
)
from opscenter.identity.actor import Actor
from opscenter.timekeeping import replaying


def add_catalog(session: Session, cast: Cast, calendar: Calendar) -> str:
    """The operations center's catalog; one old size already retired."""
    operator = cast[OPERATOR_USER]
    with replaying(calendar.at(calendar.months_ago(13) + timedelta(days=9))):
        _add_services(session, operator)
    with replaying(calendar.at(calendar.months_ago(3))):
        retired = _service(session, RETIRED)
        catalog.retire_service(session, retired.id, actor=operator, expected_version=retired.version)
    return f"{len(CATALOG)} services, {RETIRED} retired"


def _add_services(session: Session, operator: Actor) -> None:
    for offering in CATALOG:
        catalog.create_service(
            session,
            CatalogServiceCreate(
                code=offering.code,
                name=offering.name,
                category=offering.category,
                unit=offering.unit,
                description=offering.description,
                list_price=offering.list_price,
            ),
            actor=operator,
        )


def has_catalog(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(CatalogService.id).where(CatalogService.code == CATALOG[0].code)).first() is not None


def _service(session: Session, code: str) -> CatalogService:
    return session.exec(select(CatalogService).where(CatalogService.code == code)).one()


def add_purchases(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Budgets that cover what the bureau will approve, then the requests behind the running contracts."""
    needed: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for plan in REQUEST_PLANS:
        for item in plan.items:
            price = next(offering.list_price for offering in CATALOG if offering.code == item.code)
            start = calendar.months_ago(item.starts_months_ago)
            for year, cost in cost_by_year(item.quantity, price, start, calendar.contract_end).items():
                needed[(plan.department.name, year)] += cost
    with replaying(calendar.at(calendar.months_ago(12) + timedelta(days=1))):
        for (department, year), cost in sorted(needed.items()):
            # 30% headroom, rounded up to ten thousand yuan: budgets are set in round figures.
            amount = Decimal(math.ceil(cost * Decimal("1.3") / 10_000) * 10_000)
            budgets.create_budget(
                session,
                BudgetCreate(department_id=cast.org(department), fiscal_year=year, amount=amount),
                actor=cast[DRAFTER],
            )
    plans = [plan for plan in REQUEST_PLANS if _for_a_running_contract(plan)]
    return f"{len(needed)} budgets; purchase requests: {_replay_requests(session, cast, calendar, plans)}"


def add_recent_requests(session: Session, cast: Cast, calendar: Calendar) -> str:
    """The last fortnight's requests, one in each state."""
    plans = [plan for plan in REQUEST_PLANS if not _for_a_running_contract(plan)]
    summary = _replay_requests(session, cast, calendar, plans)
    drafted = [_contract(session, cast, calendar, plan) for plan in CONTRACT_PLANS if not plan.approved]
    return summary + "".join(f"; {contract.number} drafted, awaiting a second approver" for contract in drafted)


def has_recent_requests(session: Session, cast: Cast, calendar: Calendar) -> bool:
    last = REQUEST_PLANS[-1].title
    return session.exec(select(PurchaseRequest.id).where(PurchaseRequest.title == last)).first() is not None


def _for_a_running_contract(plan: RequestPlan) -> bool:
    return any(plan.fate == f"contract:{contract.number}" and contract.approved for contract in CONTRACT_PLANS)


def _replay_requests(session: Session, cast: Cast, calendar: Calendar, plans: list[RequestPlan]) -> str:
    """Each request drafted, submitted and decided when its timeline says, all in the order they happened."""
    events = sorted(
        (
            (when, step, index)
            for index, plan in enumerate(plans)
            for step, when in enumerate(_timeline(plan, calendar))
        ),
    )
    requests: dict[int, PurchaseRequest] = {}
    for when, step, index in events:
        plan = plans[index]
        with replaying(when):
            if step == 0:
                requests[index] = _draft(session, cast, calendar, plan)
            elif step == 1 and plan.fate != "draft":
                department = cast[department_user(plan.department)]
                request = requests[index]
                requests[index] = purchase_flows.submit(
                    session, request.id, actor=department, expected_version=request.version
                )
            elif step == 2 and plan.fate not in ("draft", "submitted"):
                requests[index] = _decide(session, cast[APPROVER], requests[index], plan)
    states: dict[str, int] = defaultdict(int)
    for request in requests.values():
        states[request.status.value] += 1
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items()))


def has_purchases(session: Session, cast: Cast, calendar: Calendar) -> bool:
    first = REQUEST_PLANS[0].title
    return session.exec(select(PurchaseRequest.id).where(PurchaseRequest.title == first)).first() is not None


def _draft(session: Session, cast: Cast, calendar: Calendar, plan: RequestPlan) -> PurchaseRequest:
    items = [
        PurchaseItemIn(
            service_id=_service(session, item.code).id,
            quantity=item.quantity,
            start_date=calendar.months_ago(item.starts_months_ago),
            end_date=calendar.contract_end,
            justification=item.justification,
        )
        for item in plan.items
    ]
    actor = cast[department_user(plan.department)]
    return purchasing.create_request(session, PurchaseRequestIn(title=plan.title, items=items), actor=actor)


def _timeline(plan: RequestPlan, calendar: Calendar) -> tuple[datetime, datetime, datetime]:
    """When a request was drafted, submitted and decided: a contract's a month or two before it starts, the
    others in the last fortnight."""
    contract = next((c for c in CONTRACT_PLANS if plan.fate == f"contract:{c.number}"), None)
    if contract is None or not contract.approved:
        return calendar.days_ago(12, 9), calendar.days_ago(9, 15), calendar.days_ago(4, 11)
    month = calendar.months_ago(contract.starts_months_ago + 2)
    offset = DEPARTMENTS.index(plan.department)
    return (
        calendar.at(month + timedelta(days=4 + offset), 9),
        calendar.at(month + timedelta(days=10 + offset), 16),
        calendar.at(month + timedelta(days=25), 11),
    )


def _decide(session: Session, bureau: Actor, request: PurchaseRequest, plan: RequestPlan) -> PurchaseRequest:
    if plan.fate == "returned":
        request = purchase_flows.send_back(
            session, request.id, actor=bureau, expected_version=request.version, comment=plan.note
        )
    elif plan.fate == "rejected":
        request = purchase_flows.reject(
            session, request.id, actor=bureau, expected_version=request.version, reason=plan.note
        )
    else:
        request = purchase_flows.approve(session, request.id, actor=bureau, expected_version=request.version)
    return request


def add_contracts(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Contracts from the approved requests, drafted by one bureau user and approved by another (four eyes)."""
    made = [_contract(session, cast, calendar, plan) for plan in CONTRACT_PLANS if plan.approved]
    return ", ".join(f"{contract.number} {contract.status.value}" for contract in made)


def _contract(session: Session, cast: Cast, calendar: Calendar, plan: ContractPlan) -> Contract:
    titles = [request.title for request in REQUEST_PLANS if request.fate == f"contract:{plan.number}"]
    requests = session.exec(select(PurchaseRequest).where(col(PurchaseRequest.title).in_(titles))).all()
    value = sum((request.estimated_total for request in requests), Decimal(0))
    start = calendar.months_ago(plan.starts_months_ago)
    data = ContractCreate(
        number=contract_number(calendar, plan),
        title=plan.title,
        procurement_method=plan.method,
        signed_date=start - timedelta(days=15) if plan.approved else calendar.today,
        start_date=start,
        end_date=calendar.contract_end,
        ceiling=Decimal(math.ceil(value * Decimal("1.1") / 10_000) * 10_000),
        purchase_request_ids=[request.id for request in sorted(requests, key=lambda r: titles.index(r.title))],
    )
    with replaying(calendar.at(start - timedelta(days=20)) if plan.approved else calendar.days_ago(2)):
        contract = agreements.create_draft(session, data, actor=cast[DRAFTER])
    if plan.approved:
        with replaying(calendar.at(start - timedelta(days=15), 15)):
            contract = contract_flows.approve(
                session, contract.id, actor=cast[APPROVER], expected_version=contract.version
            )
    return contract


def has_contracts(session: Session, cast: Cast, calendar: Calendar) -> bool:
    number = contract_number(calendar, CONTRACT_PLANS[0])
    return session.exec(select(Contract.id).where(Contract.number == number)).first() is not None


def add_instances(session: Session, cast: Cast, calendar: Calendar) -> str:
    """One service instance per line of every contract in force, named and labelled as Prometheus sees it."""
    operator = cast[OPERATOR_USER]
    slugs = {cast.department(department): department for department in DEPARTMENTS}
    made = 0
    contracts = session.exec(select(Contract).where(Contract.status == ContractStatus.APPROVED)).all()
    for contract in sorted(contracts, key=lambda c: c.number):
        with replaying(calendar.at(contract.start_date, 9)):
            made += _provision(session, operator, contract, slugs)
    return f"{made} service instances"


def _provision(session: Session, operator: Actor, contract: Contract, slugs: dict[uuid.UUID, Department]) -> int:
    version = agreements.get_version(session, contract, contract.current_version, actor=operator)
    for line in version.lines:
        service = catalog.get_service(session, line.service_id)
        department = slugs[line.department_id]
        host = f"{department.slug}-{service.code.lower()}-{line.line_no}.{contract.number.lower()}.gov.example.cn"
        data = ServiceInstanceCreate(
            name=f"{department.short} {service.name}",
            label_matchers={"job": "blackbox", "instance": f"https://{host}"},
            contract_id=contract.id,
            line_no=line.line_no,
        )
        instances.provision(session, data, actor=operator)
    return len(version.lines)


def has_instances(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(ServiceInstance.id).limit(1)).first() is not None
