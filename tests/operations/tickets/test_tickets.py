"""Tickets over HTTP: who opens and sees what, SLA due times from the contract, pauses, comments, lists."""

from datetime import timedelta

import pytest

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import TICKETS, act, beijing, instant, open_ticket
from tests.opscenter.calendar import steps as calendar


def test_a_department_opens_a_ticket_on_its_instance_with_due_times_from_its_contract(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)) as clock:
        ticket = open_ticket(api, world.department, instance, "P2")
    assert ticket["number"].startswith("T-2026-")
    assert ticket["status"] == "new"
    assert ticket["status_label"] == "新建"
    assert ticket["department_id"] == str(world.department.organization_id)
    assert ticket["contract_id"] == instance["contract_id"]
    assert ticket["line_no"] == instance["line_no"]
    # The standard terms: P2 30/480 minutes on the 7×24 clock, escalation at 75 %.
    assert ticket["clock"] == "24x7"
    assert (ticket["response_minutes"], ticket["resolution_minutes"]) == (30, 480)
    assert instant(ticket["response_due_at"]) == beijing(2026, 3, 2, 10, 30)
    assert instant(ticket["resolution_due_at"]) == beijing(2026, 3, 2, 18)
    assert instant(ticket["escalation_due_at"]) == beijing(2026, 3, 2, 16)
    assert clock.now == beijing(2026, 3, 2, 10)
    # The operations center opens tickets too; the bureau does not.
    assert open_ticket(api, world.operator, instance)["department_id"] == ticket["department_id"]
    assert steps.open_response(api, world.bureau, instance).status_code == 403


def test_a_business_clock_ticket_is_due_on_working_hours_of_the_official_calendar(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 2, 13, 17)):
        ticket = open_ticket(api, world.department, instance, "P3")
    assert ticket["clock"] == "business"
    # Four working hours after Friday 17:00 is Saturday 2026-02-14 12:00, a working day in exchange (调休).
    assert instant(ticket["response_due_at"]) == beijing(2026, 2, 14, 12)
    # 27 working hours: the 13th's last hour, the 14th, then past the Spring Festival (15th…23rd) the 24th and
    # eight hours of the 25th.
    assert instant(ticket["resolution_due_at"]) == beijing(2026, 2, 25, 17)


def test_a_business_deadline_in_an_unknown_year_is_refused_naming_it_and_24x7_still_works(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 12, 31, 16)):
        refused = steps.open_response(api, world.department, instance, "P4")
        assert refused.status_code == 409, refused.text
        assert "2027" in refused.json()["detail"]
        p1 = open_ticket(api, world.department, instance, "P1")
        assert instant(p1["resolution_due_at"]) == beijing(2026, 12, 31, 20)
        assert steps.listed(api, world.operator)["items"] == [p1]  # the refused one left nothing behind
        # Once the admin enters 2027's schedule, the same ticket opens: five working days from Thursday 16:00,
        # New Year's Day off, end on Friday 2027-01-08 at 16:00.
        calendar.enter_2027_new_year(api, world)
        p4 = open_ticket(api, world.department, instance, "P4")
    assert instant(p4["resolution_due_at"]) == beijing(2027, 1, 8, 16)


def test_another_department_gets_404_for_a_ticket_and_cannot_open_one_on_its_instance(
    api: ApiFactory, world: World
) -> None:
    instance = steps.instance(api, world)
    ticket = open_ticket(api, world.department, instance)
    other = api.as_(world.department_b)
    assert other.get(steps.path(ticket)).status_code == 404
    assert other.get(f"{steps.path(ticket)}/comments").status_code == 404
    assert other.post(f"{steps.path(ticket)}/close", headers={"If-Match": '"1"'}).status_code == 404
    assert steps.listed(api, world.department_b)["items"] == []
    refused = steps.open_response(api, world.department_b, instance)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "service_instance_id"
    # Its own department, the operations center, the bureau and auditors read it.
    for who in (world.department, world.operator, world.bureau, world.auditor):
        assert api.as_(who).get(steps.path(ticket)).status_code == 200


def test_internal_notes_are_invisible_to_the_department(api: ApiFactory, world: World) -> None:
    ticket = open_ticket(api, world.department, steps.instance(api, world))
    comments = f"{steps.path(ticket)}/comments"
    ok(api.as_(world.department).post(comments, {"body": "医生站全部无法登录，请尽快处理。"}), 201)
    ok(api.as_(world.operator).post(comments, {"body": "疑似负载均衡证书过期，待确认。", "internal": True}), 201)
    ok(api.as_(world.operator).post(comments, {"body": "已定位原因，正在处理。"}), 201)
    seen = [c["body"] for c in ok(api.as_(world.department).get(comments))["items"]]
    assert seen == ["医生站全部无法登录，请尽快处理。", "已定位原因，正在处理。"]
    assert len(ok(api.as_(world.operator).get(comments))["items"]) == 3
    assert len(ok(api.as_(world.bureau).get(comments))["items"]) == 2
    refused = api.as_(world.department).post(comments, {"body": "x", "internal": True})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "internal"


def test_pending_customer_pauses_the_resolution_clock_and_moves_the_due_time_exactly(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)) as clock:
        ticket = open_ticket(api, world.department, instance, "P1")
        clock.advance(minutes=5)
        steps.in_progress(api, world, ticket)
        clock.advance(minutes=55)
        pending = act(api, world.operator, ticket, "pend", {"question": "请提供出错账号与截图。"})
        assert pending["status"] == "pending_customer"
        assert pending["pending_question"] == "请提供出错账号与截图。"
        clock.advance(hours=2, minutes=30, seconds=7)
        # Past the original due time (14:00) while waiting: no breach, the clock stood still.
        resumed = act(api, world.department, ticket, "resume")
    assert resumed["paused_seconds"] == 2 * 3600 + 30 * 60 + 7
    assert instant(resumed["resolution_due_at"]) == beijing(2026, 3, 2, 16, 30) + timedelta(seconds=7)
    assert resumed["resolution_breached_at"] is None
    assert resumed["response_breached_at"] is None


def test_a_priority_change_recomputes_the_due_times_from_creation(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)) as clock:
        ticket = open_ticket(api, world.department, instance, "P2")
        clock.advance(minutes=20)
        raised = act(api, world.operator, ticket, "reprioritize", {"priority": "P1"})
    assert raised["priority"] == "P1"
    assert raised["response_minutes"] == 15
    assert instant(raised["response_due_at"]) == beijing(2026, 3, 2, 10, 15)
    assert instant(raised["resolution_due_at"]) == beijing(2026, 3, 2, 14)
    # 20 minutes in, the new 15-minute response target has passed: a breach at its due time.
    assert instant(raised["response_breached_at"]) == beijing(2026, 3, 2, 10, 15)


def test_lists_filter_sort_by_due_time_and_page_by_cursor(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)) as clock:
        p2 = open_ticket(api, world.department, instance, "P2")
        p1 = open_ticket(api, world.department, instance, "P1")
        p4 = open_ticket(api, world.operator, instance, "P4")
        clock.advance(minutes=16)
        act(api, world.operator, p1, "acknowledge")  # late: a response breach
        p1 = act(api, world.operator, p1, "assign", {"assignee_id": str(world.operator.user_id)})
    dept = world.department
    assert [t["id"] for t in steps.listed(api, dept)["items"]] == [p4["id"], p1["id"], p2["id"]]
    by_due = steps.listed(api, dept, sort="due")["items"]
    assert [t["id"] for t in by_due] == [p1["id"], p2["id"], p4["id"]]
    assert [t["id"] for t in steps.listed(api, dept, priority="P2")["items"]] == [p2["id"]]
    assert [t["id"] for t in steps.listed(api, dept, breached="true")["items"]] == [p1["id"]]
    assert [t["id"] for t in steps.listed(api, dept, breached="false")["items"]] == [p4["id"], p2["id"]]
    assert [t["id"] for t in steps.listed(api, dept, status="acknowledged")["items"]] == [p1["id"]]
    assignee = str(world.operator.user_id)
    assert [t["id"] for t in steps.listed(api, world.operator, assignee_id=assignee)["items"]] == [p1["id"]]
    assert steps.listed(api, dept, escalated="true")["items"] == []
    first = steps.listed(api, dept, sort="due", limit=2)
    assert [t["id"] for t in first["items"]] == [p1["id"], p2["id"]]
    assert first["total"] is None
    rest = steps.listed(api, dept, sort="due", limit=2, cursor=first["next_cursor"])
    assert [t["id"] for t in rest["items"]] == [p4["id"]]
    assert rest["next_cursor"] is None
    # A cursor of the department's list is not the operations center's.
    assert (
        api.as_(world.operator).get(TICKETS, params={"sort": "due", "cursor": first["next_cursor"]}).status_code == 400
    )


def test_a_ticket_links_the_departments_own_assets_only(api: ApiFactory, world: World, db: Database) -> None:
    from tests.operations.assets import steps as assets

    instance = steps.instance(api, world)
    batch = assets.batch(api, world.department, assets.item("SN-TICKET-1"))
    assets.act(api, world.department, batch, "submit")
    (asset,) = assets.assets(api, world.department)
    ticket = open_ticket(api, world.department, instance, asset_ids=[asset["id"]])
    assert ticket["asset_ids"] == [asset["id"]]
    assert steps.listed(api, world.bureau)["items"][0]["asset_ids"] == [asset["id"]]
    other = steps.instance(api, world, world.department_b, number="SZSJ-2026-002", code="ECS-B")
    refused = steps.open_response(api, world.department_b, other, asset_ids=[asset["id"]])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "asset_ids.0"
