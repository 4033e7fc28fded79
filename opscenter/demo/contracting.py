"""The bureau's side of the demo: catalog, budgets, purchase requests in every state, contracts, instances."""

import math
from collections import defaultdict
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
    RequestPlan,
    contract_number,
    department_user,
)


def add_catalog(session: Session, cast: Cast, calendar: Calendar) -> str:
    """The operations center's catalog; one old size already retired."""
    operator = cast[OPERATOR_USER]
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
    retired = _service(session, RETIRED)
    catalog.retire_service(session, retired.id, actor=operator, expected_version=retired.version)
    return f"{len(CATALOG)} services, {RETIRED} retired"


def has_catalog(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(CatalogService.id).where(CatalogService.code == CATALOG[0].code)).first() is not None


def _service(session: Session, code: str) -> CatalogService:
    return session.exec(select(CatalogService).where(CatalogService.code == code)).one()


def add_purchases(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Budgets that cover what the bureau approves, then every request, taken as far as its plan says."""
    needed: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for plan in REQUEST_PLANS:
        for item in plan.items:
            price = next(offering.list_price for offering in CATALOG if offering.code == item.code)
            start = calendar.months_ago(item.starts_months_ago)
            for year, cost in cost_by_year(item.quantity, price, start, calendar.contract_end).items():
                needed[(plan.department.name, year)] += cost
    for (department, year), cost in sorted(needed.items()):
        # 30% headroom, rounded up to ten thousand yuan: budgets are set in round figures.
        amount = Decimal(math.ceil(cost * Decimal("1.3") / 10_000) * 10_000)
        budgets.create_budget(
            session,
            BudgetCreate(department_id=cast.org(department), fiscal_year=year, amount=amount),
            actor=cast[DRAFTER],
        )
    states: dict[str, int] = defaultdict(int)
    for plan in REQUEST_PLANS:
        request = _draft(session, cast, calendar, plan)
        states[_advance(session, cast, request, plan)] += 1
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return f"{len(needed)} budgets; purchase requests: {summary}"


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


def _advance(session: Session, cast: Cast, request: PurchaseRequest, plan: RequestPlan) -> str:
    """Take a draft as far as the plan says; the state it ends in."""
    if plan.fate == "draft":
        return "draft"
    department, bureau = cast[department_user(plan.department)], cast[APPROVER]
    request = purchase_flows.submit(session, request.id, actor=department, expected_version=request.version)
    if plan.fate == "returned":
        request = purchase_flows.send_back(
            session, request.id, actor=bureau, expected_version=request.version, comment=plan.note
        )
    elif plan.fate == "rejected":
        request = purchase_flows.reject(
            session, request.id, actor=bureau, expected_version=request.version, reason=plan.note
        )
    elif plan.fate != "submitted":
        request = purchase_flows.approve(session, request.id, actor=bureau, expected_version=request.version)
    return request.status.value


def add_contracts(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Contracts from the approved requests, drafted by one bureau user and approved by another (four eyes)."""
    drafted = []
    for plan in CONTRACT_PLANS:
        titles = [request.title for request in REQUEST_PLANS if request.fate == f"contract:{plan.number}"]
        requests = session.exec(select(PurchaseRequest).where(col(PurchaseRequest.title).in_(titles))).all()
        value = sum((request.estimated_total for request in requests), Decimal(0))
        start = calendar.months_ago(plan.starts_months_ago)
        data = ContractCreate(
            number=contract_number(calendar, plan),
            title=plan.title,
            procurement_method=plan.method,
            signed_date=calendar.months_ago(max(plan.starts_months_ago, 0) + 1),
            start_date=start,
            end_date=calendar.contract_end,
            ceiling=Decimal(math.ceil(value * Decimal("1.1") / 10_000) * 10_000),
            purchase_request_ids=[request.id for request in sorted(requests, key=lambda r: titles.index(r.title))],
        )
        contract = agreements.create_draft(session, data, actor=cast[DRAFTER])
        if plan.approved:
            contract = contract_flows.approve(
                session, contract.id, actor=cast[APPROVER], expected_version=contract.version
            )
        drafted.append(f"{contract.number} {contract.status.value}")
    return ", ".join(drafted)


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
            made += 1
    return f"{made} service instances"


def has_instances(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(ServiceInstance.id).limit(1)).first() is not None
