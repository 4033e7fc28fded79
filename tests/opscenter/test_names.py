"""Names beside ids: answers say the department, instance, service, contract and person they refer to, and a page
of 200 reads them in as many statements as a page of 1 (one query per kind of id, never one per row)."""

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from contracts.purchasing.models import PurchaseItem, PurchaseRequest
from operations.tickets.models import Ticket
from opscenter.audit.models import AuditEvent
from opscenter.db import Database, core_table, insert_rows, new_id
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import ok
from tests.factories import DEPARTMENT_A, World
from tests.operations.tickets import steps as tickets

JSON = dict[str, Any]


# The threads that write keys' and sessions' last-use times behind the requests (opscenter/auth/touches.py): when
# their write lands is up to the scheduler of a loaded machine, so it is not a statement of the request measured.
BEHIND_THE_REQUESTS = frozenset({"api-key-touches", "session-touches"})


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends for requests while the block runs (the server runs in
    it); the last-use writes behind the requests are left out."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name not in BEHIND_THE_REQUESTS:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def clone(db: Database, model: Any, where: Any, copies: int, vary: Callable[[int, dict[str, Any]], None]) -> None:
    """``copies`` copies of the row ``where`` finds, each under a new id, varied by ``vary(index, row)``."""
    table = core_table(model)
    with db.transaction(write=True) as session:
        original = dict(session.execute(select(table).where(where)).mappings().one())
        rows = []
        for index in range(copies):
            row = {**original, "id": new_id()}
            vary(index, row)
            rows.append(row)
        insert_rows(session, table, rows)


def statements_for_pages(api: ApiFactory, who: Any, path: str) -> tuple[int, int, list[JSON]]:
    """Statements for the first page of 1 and of 200 (after one read that warms the caller's key and cursor key)."""
    caller = api.as_(who)
    ok(caller.get(path, params={"limit": 1}))
    with statements() as one:
        ok(caller.get(path, params={"limit": 1}))
    with statements() as many:
        page = ok(caller.get(path, params={"limit": 200}))
    return len(one), len(many), page["items"]


def test_a_ticket_names_its_department_instance_service_contract_and_people(api: ApiFactory, world: World) -> None:
    instance = tickets.instance(api, world)
    ticket = tickets.open_ticket(api, world.department, instance)
    ticket = tickets.act(api, world.operator, ticket, "acknowledge")  # assigns it to the operator
    for answer in (ticket, tickets.read(api, world.department, ticket), tickets.listed(api, world.bureau)["items"][0]):
        assert answer["department_name"] == DEPARTMENT_A
        assert answer["instance_label"] == instance["name"]
        assert answer["service_name"] == instance["service_name"] == "云服务器（4核8G）"
        assert answer["contract_number"] == instance["contract_number"]
        assert answer["opened_by_name"] == "chen.jie"
        assert answer["assignee_name"] == "zhao.min"


def test_a_ticket_page_of_200_reads_its_names_in_as_many_statements_as_a_page_of_1(
    api: ApiFactory, world: World, db: Database
) -> None:
    instance = tickets.instance(api, world)
    first = tickets.open_ticket(api, world.department, instance)
    people = [world.operator.user_id, None, world.auditor.user_id]

    def vary(index: int, row: dict[str, Any]) -> None:
        row.update(number=f"T-2099-{index:06d}", serial=10_000_000 + index, assignee_id=people[index % 3])

    clone(db, Ticket, Ticket.id == uuid.UUID(first["id"]), 199, vary)
    one, many, items = statements_for_pages(api, world.operator, tickets.TICKETS)
    assert len(items) == 200
    assert one == many
    assert {item["department_name"] for item in items} == {DEPARTMENT_A}
    assert {item["assignee_name"] for item in items} == {"zhao.min", None, "sun.li"}


def test_a_purchase_request_page_names_its_items_services_in_as_many_statements_as_a_page_of_1(
    api: ApiFactory, world: World, db: Database
) -> None:
    service = contracts.catalog_service(api, world)
    first = contracts.draft_request(api, world.department, contracts.item(service))
    request_ids: list[uuid.UUID] = []

    def vary_request(index: int, row: dict[str, Any]) -> None:
        request_ids.append(row["id"])

    clone(db, PurchaseRequest, PurchaseRequest.id == uuid.UUID(first["id"]), 199, vary_request)
    source_item = PurchaseItem.purchase_request_id == uuid.UUID(first["id"])
    clone(db, PurchaseItem, source_item, 199, lambda index, row: row.update(purchase_request_id=request_ids[index]))
    one, many, items = statements_for_pages(api, world.bureau, "/api/v1/purchase-requests")
    assert len(items) == 200
    assert one == many
    assert {item["department_name"] for item in items} == {DEPARTMENT_A}
    assert {item["items"][0]["service_name"] for item in items} == {service["name"]}
    assert {item["created_by_name"] for item in items} == {"chen.jie"}


def test_an_audit_page_names_the_actors_organizations_in_as_many_statements_as_a_page_of_1(
    api: ApiFactory, world: World, db: Database
) -> None:
    contracts.draft_request(api, world.department, contracts.item(contracts.catalog_service(api, world)))
    table = core_table(AuditEvent)
    with db.transaction(write=False) as session:
        last = session.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar_one()
    clone(db, AuditEvent, table.c.id == last, 199, lambda index, row: None)
    one, many, items = statements_for_pages(api, world.auditor, "/api/v1/audit-events")
    assert len(items) >= 200
    assert one == many
    assert {item["actor_organization_name"] for item in items[:199]} == {DEPARTMENT_A}


@pytest.mark.parametrize("path", ["/api/v1/service-instances", "/api/v1/contracts"])
def test_contracts_and_instances_name_their_services_departments_and_supplier(
    api: ApiFactory, world: World, path: str
) -> None:
    tickets.instance(api, world)
    answer = ok(api.as_(world.bureau).get(path))["items"][0]
    lines = answer.get("lines", [answer])
    assert {line["department_name"] for line in lines} == {DEPARTMENT_A}
    assert all(line["service_name"] for line in lines)
