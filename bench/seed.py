"""Seeding the benchmarks through the domains, as the API would leave the data: people and keys, a catalog service,
budgets, a purchase request submitted and approved, a contract drafted from it and approved by a second bureau
user, a service instance provisioned for each line — every step through its service or flow, every change audited.

Volume beyond what the services build in a few seconds (100,000 tickets, a million purchase requests, a month of
measurements for 10,000 lines) is copied: the benchmark builds one real object through its domain, reads its row
(``row_of``) and writes copies of that shape, varied where the benchmark needs it, through
``opscenter.db.insert_rows`` (``copy_rows``), saying so in its docstring.
"""

import random
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel
from sqlmodel import select as sqlmodel_select

from contracts.agreements import flows as contract_flows
from contracts.agreements import service as agreements
from contracts.agreements.models import (
    Contract,
    ContractCreate,
    ContractLine,
    ContractLineIn,
    ContractVersion,
    ProcurementMethod,
)
from contracts.budgets import service as budgets
from contracts.budgets.models import Budget, BudgetCreate
from contracts.catalog import service as catalog
from contracts.catalog.models import CatalogServiceCreate, ServiceCategory
from contracts.instances import service as instances
from contracts.instances.models import ServiceInstance, ServiceInstanceCreate
from contracts.purchasing import flows as purchase_flows
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseItemIn, PurchaseRequestIn
from opscenter.db import Database, core_table, insert_rows, new_id
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from tests.factories import Identity, identity

BUREAU_ORG = "政务服务数据管理局"
OPERATOR_ORG = "数字政府运营中心"
PRICE = Decimal("1500.00")  # a month of one 云服务器
MAX_LINES = 10  # lines per contract built here: provisioning reads every line of the contract (O(lines) each)


@dataclass(frozen=True)
class Cast:
    """Who acts in a seeded world: two bureau users (one drafts, the other approves), the operations center, and
    ``departments`` departments."""

    drafter: Identity
    approver: Identity
    operator: Identity
    departments: list[Identity]

    def actor(self, who: Identity) -> Actor:
        kinds = {Role.BUREAU: OrgKind.BUREAU, Role.OPERATOR: OrgKind.OPERATOR, Role.DEPARTMENT: OrgKind.DEPARTMENT}
        return Actor(who.user_id, who.user_name, who.organization_id, kinds[who.role], who.role, "bench-seed")

    @property
    def department_ids(self) -> list[uuid.UUID]:
        return [department.organization_id for department in self.departments]


def cast(database: Database, *, departments: int = 1) -> Cast:
    """The people, their organizations and API keys, made through the organizations and auth services."""
    bureau = {"role": Role.BUREAU, "org_name": BUREAU_ORG, "org_kind": OrgKind.BUREAU}
    return Cast(
        drafter=identity(database, user_name="bench.drafter", **bureau),  # type: ignore[arg-type]
        approver=identity(database, user_name="bench.approver", **bureau),  # type: ignore[arg-type]
        operator=identity(
            database, user_name="bench.operator", role=Role.OPERATOR, org_name=OPERATOR_ORG, org_kind=OrgKind.OPERATOR
        ),
        departments=[
            identity(
                database,
                user_name=f"bench.dept{n}",
                role=Role.DEPARTMENT,
                org_name=f"市直部门{n:02d}",
                org_kind=OrgKind.DEPARTMENT,
            )
            for n in range(departments)
        ],
    )


def catalog_service(database: Database, people: Cast, *, code: str = "BENCH-ECS") -> uuid.UUID:
    """A compute service at 1,500.00 a month, added to the catalog by the operations center."""
    offer = CatalogServiceCreate(
        code=code, name="云服务器（4核8G）", category=ServiceCategory.COMPUTE, unit="台/月", list_price=PRICE
    )
    with database.transaction(write=True) as session:
        return catalog.create_service(session, offer, actor=people.actor(people.operator)).id


def approved_contract(
    database: Database,
    people: Cast,
    *,
    number: str,
    service_id: uuid.UUID,
    departments: Sequence[uuid.UUID],
    start: date,
    end: date,
    quantity: int = 1,
    line_starts: Sequence[date] = (),
) -> uuid.UUID:
    """An approved contract over [start, end] with one line per entry of ``departments`` (its beneficiary), as the
    bureau makes one: the first beneficiary's purchase request (budgeted, submitted, approved), a draft claiming it,
    approved by a second bureau user. ``line_starts``: a later start for the first lines, in order."""
    first = next(who for who in people.departments if who.organization_id == departments[0])
    department, drafter, approver = people.actor(first), people.actor(people.drafter), people.actor(people.approver)
    with database.transaction(write=True) as session:
        _budgeted(session, departments[0], start, end, actor=drafter)
        item = PurchaseItemIn(
            service_id=service_id, quantity=quantity, start_date=start, end_date=end, justification="压测"
        )
        request = purchasing.create_request(
            session, PurchaseRequestIn(title=f"{number} 云资源", items=[item]), actor=department
        )
        request = purchase_flows.submit(session, request.id, actor=department, expected_version=request.version)
        request = purchase_flows.approve(session, request.id, actor=drafter, expected_version=request.version)
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        lines = [
            ContractLineIn(
                service_id=service_id,
                department_id=beneficiary,
                quantity=quantity,
                start_date=line_starts[n] if n < len(line_starts) else start,
                end_date=end,
                unit_price=PRICE,
            )
            for n, beneficiary in enumerate(departments)
        ]
        data = ContractCreate(
            number=number,
            title="政务云资源服务合同（压测）",
            procurement_method=ProcurementMethod.PUBLIC_TENDER,
            signed_date=start,
            start_date=start,
            end_date=end,
            ceiling=PRICE * quantity * len(lines) * (months + 1),
            lines=lines,
            purchase_request_ids=[request.id],
            supplier_id=people.operator.organization_id,
        )
        contract = agreements.create_draft(session, data, actor=drafter)
        contract = contract_flows.approve(session, contract.id, actor=approver, expected_version=contract.version)
        return contract.id


def _budgeted(session: Session, department_id: uuid.UUID, start: date, end: date, *, actor: Actor) -> None:
    """A budget for each fiscal year of [start, end], ample, unless the department has it already."""
    for year in range(start.year, end.year + 1):
        found = session.exec(
            sqlmodel_select(Budget.id).where(Budget.department_id == department_id, Budget.fiscal_year == year)
        ).first()
        if found is None:
            amount = Decimal(1_000_000_000)
            budgets.create_budget(
                session, BudgetCreate(department_id=department_id, fiscal_year=year, amount=amount), actor=actor
            )


def provision(
    database: Database, people: Cast, contract_id: uuid.UUID, *, labels: Iterable[str] | None = None
) -> list[ServiceInstance]:
    """A service instance for every line of the contract, by the operations center; ``labels`` are their
    Prometheus ``instance`` labels, in line order (default ``i<line>``)."""
    operator = people.actor(people.operator)
    made = []
    with database.transaction(write=True) as session:
        contract = agreements.get_contract(session, contract_id, actor=operator)
        version = agreements.get_version(session, contract, contract.current_version, actor=operator)
        names = iter(labels) if labels is not None else (f"i{line.line_no}" for line in version.lines)
        for line, label in zip(version.lines, names, strict=False):
            data = ServiceInstanceCreate(
                name=f"压测实例 {contract.number}-{line.line_no}",
                label_matchers={"instance": label},
                contract_id=contract_id,
                line_no=line.line_no,
            )
            made.append(instances.provision(session, data, actor=operator))
    return made


@dataclass(frozen=True)
class InstanceRow:
    """A service instance as the benchmarks use it (made through the service, or copied)."""

    id: uuid.UUID
    contract_id: uuid.UUID
    line_no: int
    department_id: uuid.UUID
    service_id: uuid.UUID
    label: str

    @classmethod
    def of(cls, instance: ServiceInstance) -> "InstanceRow":
        return cls(
            instance.id,
            instance.contract_id,
            instance.line_no,
            instance.department_id,
            instance.service_id,
            instance.label_matchers["instance"],
        )


def provisioned(
    database: Database,
    people: Cast,
    *,
    service_id: uuid.UUID,
    departments: Sequence[uuid.UUID],
    start: date,
    end: date,
    prefix: str = "BENCH",
    real: int | None = None,
) -> list[InstanceRow]:
    """One instance for each entry of ``departments`` (its beneficiary), on lines of approved contracts of
    ``MAX_LINES`` lines; their labels run ``i1``, ``i2``, … The first ``real`` (default: all) are made through
    the flows; the rest are copies of the last contract so made, with its versions, lines and instances."""
    real = len(departments) if real is None else max(min(real, len(departments)), 1)
    made: list[InstanceRow] = []
    contract_id = None
    for first in range(0, real, MAX_LINES):
        chunk = departments[first : min(first + MAX_LINES, real)]
        contract_id = approved_contract(
            database,
            people,
            number=f"{prefix}-{first // MAX_LINES + 1:05d}",
            service_id=service_id,
            departments=chunk,
            start=start,
            end=end,
        )
        labels = [f"i{first + n}" for n in range(1, len(chunk) + 1)]
        made.extend(InstanceRow.of(instance) for instance in provision(database, people, contract_id, labels=labels))
    if len(made) < len(departments):
        assert contract_id is not None
        rest = departments[len(made) :]
        made.extend(
            copy_contracts(
                database,
                contract_id,
                departments=rest,
                labels=[f"i{n}" for n in range(len(made) + 1, len(departments) + 1)],
            )
        )
    return made


def copy_contracts(
    database: Database, contract_id: uuid.UUID, *, departments: Sequence[uuid.UUID], labels: Sequence[str]
) -> list[InstanceRow]:
    """Copies of an approved, provisioned contract — the contract, its versions, their lines, its instances — with
    one line (and instance) for each entry of ``departments``, as many copies as that takes; each line's
    beneficiary from ``departments``, each instance's ``instance`` label from ``labels``. Returns the instances."""
    with database.transaction(write=False) as session:
        contract = row_of(session, Contract, contract_id)
        versions = rows_of(session, ContractVersion, core_table(ContractVersion).c.contract_id == contract_id)
        version_ids = [version["id"] for version in versions]
        lines = rows_of(session, ContractLine, core_table(ContractLine).c.contract_version_id.in_(version_ids))
        placed = rows_of(session, ServiceInstance, core_table(ServiceInstance).c.contract_id == contract_id)
    per_contract = len(placed)
    by_line = sorted(placed, key=lambda row: row["line_no"])
    contracts, new_versions, new_lines, new_instances = [], [], [], []
    made: list[InstanceRow] = []
    for copy, first in enumerate(range(0, len(departments), per_contract), start=1):
        beneficiaries = departments[first : first + per_contract]
        copy_id = new_id()
        contracts.append({**contract, "id": copy_id, "number": f"{contract['number']}/{copy:05d}"})
        for version in versions:
            version_id = new_id()
            new_versions.append({**version, "id": version_id, "contract_id": copy_id})
            for line in lines:
                if line["contract_version_id"] == version["id"] and line["line_no"] <= len(beneficiaries):
                    beneficiary = beneficiaries[line["line_no"] - 1]
                    new_lines.append(
                        {**line, "id": new_id(), "contract_version_id": version_id, "department_id": beneficiary}
                    )
        for instance, beneficiary, label in zip(by_line, beneficiaries, labels[first:], strict=False):
            row = {
                **instance,
                "id": new_id(),
                "contract_id": copy_id,
                "department_id": beneficiary,
                "label_matchers": {**instance["label_matchers"], "instance": label},
            }
            new_instances.append(row)
            made.append(InstanceRow(row["id"], copy_id, row["line_no"], beneficiary, row["service_id"], label))
    for model, rows in (
        (Contract, contracts),
        (ContractVersion, new_versions),
        (ContractLine, new_lines),
        (ServiceInstance, new_instances),
    ):
        copy_rows(database, model, rows)
    return made


# ---- volume: copies of a real object's shape ------------------------------------------------------------------


def row_of(session: Session, model: type[SQLModel], row_id: uuid.UUID) -> dict[str, Any]:
    """The stored row of one object, as plain values: the shape bulk copies start from."""
    table = core_table(model)
    found = session.connection().execute(select(table).where(table.c.id == row_id)).one()
    return dict(found._mapping)


def rows_of(session: Session, model: type[SQLModel], where: Any) -> list[dict[str, Any]]:
    """The stored rows of a model that match ``where`` (a Core condition), as plain values."""
    table = core_table(model)
    return [dict(row._mapping) for row in session.connection().execute(select(table).where(where))]


def copy_rows(
    database: Database, model: type[SQLModel], rows: Iterable[Mapping[str, Any]], *, batch: int = 10_000
) -> int:
    """Write ``rows`` (copies of a real row, varied) through ``insert_rows``: COPY on PostgreSQL, executemany on
    SQLite; one transaction per ``batch``. Returns how many."""
    table = core_table(model)
    written = 0
    for chunk in _chunks(rows, batch):
        with database.transaction(write=True) as session:
            insert_rows(session, table, chunk)
        written += len(chunk)
    return written


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def uuid7_at(instant: datetime) -> uuid.UUID:
    """A UUIDv7 for ``instant``: copied rows sort (and page) as if made at that time."""
    value = (int(instant.timestamp() * 1000) & 0xFFFF_FFFF_FFFF) << 80 | random.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)
