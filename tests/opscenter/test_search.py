"""Search (``q``) and order (``sort``) on the lists people browse; "my open tickets"."""

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from billing.statements import service as statements
from contracts.agreements import service as agreements
from contracts.purchasing import service as purchasing
from operations.assets.register import service as assets
from operations.tickets import service as tickets_service
from operations.tickets.models import Ticket
from opscenter.audit import service as audit
from opscenter.db import Database
from opscenter.search import matches
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import ok
from tests.factories import World
from tests.operations.tickets import steps as tickets

JSON = dict[str, Any]
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0021_search_and_order.py"


def numbers(page: JSON, key: str = "number") -> list[str]:
    return [item[key] for item in page["items"]]


def three_tickets(api: ApiFactory, world: World) -> list[JSON]:
    instance = tickets.instance(api, world)
    return [
        tickets.open_ticket(api, world.department, instance, "P3", title="电子证书即将到期", description="请续期。"),
        tickets.open_ticket(api, world.department, instance, "P1", title="VPN 无法连接", description="100% 丢包"),
        tickets.open_ticket(api, world.department, instance, "P2", title="门户打不开", description="SSL证书错误"),
    ]


def test_q_finds_tickets_by_a_part_of_title_description_or_number_in_chinese_and_any_case(
    api: ApiFactory, world: World
) -> None:
    first, second, third = three_tickets(api, world)
    assert numbers(tickets.listed(api, world.operator, q="证书")) == [third["number"], first["number"]]
    assert numbers(tickets.listed(api, world.operator, q="vpn")) == [second["number"]]
    assert numbers(tickets.listed(api, world.department, q=second["number"].lower())) == [second["number"]]
    # The user's % and _ are text, not wildcards.
    assert numbers(tickets.listed(api, world.operator, q="100%")) == [second["number"]]
    assert numbers(tickets.listed(api, world.operator, q="%")) == [second["number"]]
    assert numbers(tickets.listed(api, world.operator, q="_")) == []
    assert tickets.listed(api, world.department_b, q="证书")["items"] == []  # another department's stay hidden
    refused = api.as_(world.operator).get(tickets.TICKETS, params={"q": "证" * 101})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "q"


def test_tickets_sort_newest_oldest_by_priority_and_due_and_a_cursor_keeps_its_sort(
    api: ApiFactory, world: World
) -> None:
    first, second, third = three_tickets(api, world)
    by = {"newest": [third, second, first], "oldest": [first, second, third], "priority": [second, third, first]}
    by["due"] = sorted([first, second, third], key=lambda ticket: ticket["resolution_due_at"])
    for sort, expected in by.items():
        page = tickets.listed(api, world.operator, sort=sort)
        assert numbers(page) == [ticket["number"] for ticket in expected], sort
        walked = [tickets.listed(api, world.operator, sort=sort, limit=1)]
        while walked[-1]["next_cursor"]:
            walked.append(tickets.listed(api, world.operator, sort=sort, limit=1, cursor=walked[-1]["next_cursor"]))
        assert [number for page in walked for number in numbers(page)] == numbers(page), sort
    cursor = tickets.listed(api, world.operator, sort="priority", limit=1)["next_cursor"]
    reused = api.as_(world.operator).get(tickets.TICKETS, params={"sort": "newest", "limit": 1, "cursor": cursor})
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["field"] == "cursor"
    wrong = api.as_(world.operator).get(tickets.TICKETS, params={"sort": "title"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "sort"


def test_my_open_tickets_are_those_assigned_to_me_not_resolved_or_closed(api: ApiFactory, world: World) -> None:
    first, second, third = three_tickets(api, world)
    tickets.act(api, world.operator, first, "acknowledge")  # assigned to the one who acknowledges
    tickets.resolved(api, world, second)
    mine_open = tickets.listed(api, world.operator, assignee="me", open="true")
    assert numbers(mine_open) == [first["number"]]
    assert numbers(tickets.listed(api, world.operator, assignee="me", open="false")) == [second["number"]]
    assert numbers(tickets.listed(api, world.operator, assignee="nobody")) == [third["number"]]
    assert numbers(tickets.listed(api, world.operator, open="true")) == [third["number"], first["number"]]
    assert tickets.listed(api, world.department, assignee="me")["items"] == []


def test_purchase_requests_contracts_assets_and_audit_events_take_q_and_sort(api: ApiFactory, world: World) -> None:
    service = contracts.catalog_service(api, world)
    contracts.budget(api, world, world.department, 2027, "500000.00")
    request = contracts.approved_request(api, world, world.department, contracts.item(service))
    other = contracts.draft_request(api, world.department, contracts.item(service), title="机房扩容")
    bureau = api.as_(world.bureau)
    found = ok(bureau.get("/api/v1/purchase-requests", params={"q": "扩容"}))
    assert [item["id"] for item in found["items"]] == [other["id"]]
    by_title = ok(bureau.get("/api/v1/purchase-requests", params={"sort": "title"}))
    assert [item["title"] for item in by_title["items"]] == sorted([request["title"], other["title"]])
    contract = contracts.draft_contract(api, world, [request], number="SZSJ-2027-042")
    found = ok(bureau.get("/api/v1/contracts", params={"q": "szsj-2027-04"}))
    assert [item["id"] for item in found["items"]] == [contract["id"]]
    assert ok(bureau.get("/api/v1/contracts", params={"q": "2026"}))["items"] == []
    assert ok(bureau.get("/api/v1/contracts", params={"sort": "number"}))["items"][0]["id"] == contract["id"]
    events = ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"q": "purchase_request.SUBMIT"}))
    assert {event["action"] for event in events["items"]} == {"purchase_request.submit"}
    assert ok(api.as_(world.bureau).get("/api/v1/assets", params={"q": "不存在", "sort": "name"}))["items"] == []
    assert ok(api.as_(world.bureau).get("/api/v1/statements", params={"q": "SZSJ", "sort": "number"}))["items"] == []


def _migration_haystacks() -> dict[str, tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("search_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.SEARCHED)


def test_each_lists_search_is_the_very_expression_its_trigram_index_holds() -> None:
    searched = [tickets_service, purchasing, agreements, assets, statements, audit]
    indexed = dict(_migration_haystacks().values())
    for module in searched:
        compiled = str(module.SEARCHED.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
        table = compiled.split(".", 1)[0]
        assert compiled.replace(f"{table}.", "") == indexed[table], module.__name__


@pytest.mark.postgresql_only
def test_on_postgresql_a_search_reads_the_trigram_index(api: ApiFactory, world: World, db: Database) -> None:
    three_tickets(api, world)
    query = select(Ticket).where(matches(tickets_service.SEARCHED, "电子证书")).order_by(col(Ticket.id).desc())
    with db.transaction(write=False) as session:
        compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_indexscan = off"))
        plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_ticket_search" in plan, plan
