"""The ticket export: the list's filters and order over every page, each ticket's SLA due times and breaches as
Asia/Shanghai date-times, departments, instances and assignees by name, formula-looking titles kept as text, and a
department exporting only its own."""

import pytest

import opscenter.web
from operations.tickets import jobs
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from tests import factories
from tests.conftest import ApiFactory
from tests.exported import assert_excel_ready, assert_instant, csv_records, download, read_xlsx
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import TICKETS, beijing

EXPORT = f"{TICKETS}/export"
HOSTILE = "=cmd|' /C calc'!A0"


def test_a_ticket_export_pages_through_the_list_with_sla_columns_and_names(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opscenter.web, "EXPORT_BATCH", 2)  # five tickets: three batches, three transactions
    instance = steps.instance(api, world)
    other = steps.instance(api, world, world.department_b, number="SZSJ-2026-002", code="ECS-B")
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)):
        opened = [steps.open_ticket(api, world.department, instance, "P1", title=HOSTILE)]
        opened += [steps.open_ticket(api, world.department, instance, "P2") for _ in range(4)]
        theirs = steps.open_ticket(api, world.department_b, other, "P1")
        steps.act(api, world.operator, opened[1], "acknowledge")
    jobs.sweep(db, JobContext(now=beijing(2026, 3, 2, 11), actor=Actor.system("job:tickets.sweep", "test")))

    listed = [ticket["number"] for ticket in steps.listed(api, world.department, limit=50)["items"]]
    records = csv_records(download(api, world.department, EXPORT, "csv"))
    assert [record["工单号"] for record in records] == listed, "the list's tickets in the list's order"
    assert theirs["number"] not in listed, "a department exports only its own"
    hostile = next(record for record in records if record["工单号"] == opened[0]["number"])
    assert hostile["标题"] == "'" + HOSTILE
    assert (hostile["优先级"], hostile["状态"], hostile["受益部门"]) == ("P1", "新建", factories.DEPARTMENT_A)
    assert (hostile["服务实例"], hostile["计时方式"]) == (instance["name"], "7×24小时")
    assert (hostile["响应时限"], hostile["响应超时"], hostile["超时时间"]) == (
        "2026-03-02 10:15:00",
        "是",
        "2026-03-02 10:15:00",
    )
    answered = next(record for record in records if record["工单号"] == opened[1]["number"])
    assert (answered["响应超时"], answered["处理人"]) == ("", "zhao.min"), "answered in time; assignee by name"

    by_due = csv_records(download(api, world.operator, EXPORT, "csv", sort="due", priority="P1"))
    assert [record["工单号"] for record in by_due] == [opened[0]["number"], theirs["number"]]

    book = read_xlsx(download(api, world.department, EXPORT, "xlsx", breached="true"))
    assert_excel_ready(book)
    assert len(book.rows) == 4, "the filter holds in the file: the acknowledged ticket did not breach"
    first = next(row for row in book.rows if row["工单号"].value == opened[0]["number"])
    assert (first["标题"].value, first["标题"].data_type) == (HOSTILE, "s"), "a string cell, never a formula"
    ticket = steps.read(api, world.department, opened[0])
    assert_instant(first["创建时间"], ticket["created_at"])
    assert_instant(first["响应时限"], ticket["response_due_at"])
    assert_instant(first["解决时限"], ticket["resolution_due_at"])
    assert first["重开次数"].data_type == "n"


def test_a_ticket_export_takes_the_lists_search_open_and_assignee_filters(api: ApiFactory, world: World) -> None:
    instance = steps.instance(api, world)
    mine = steps.act(api, world.operator, steps.open_ticket(api, world.department, instance, "P2"), "acknowledge")
    login = steps.open_ticket(api, world.department, instance, "P3", title="登录页面无法打开")
    done = steps.resolved(api, world, steps.open_ticket(api, world.department, instance, "P3"))

    def exported(**params: str) -> list[str]:
        numbers = [record["工单号"] for record in csv_records(download(api, world.operator, EXPORT, "csv", **params))]
        listed = [ticket["number"] for ticket in steps.listed(api, world.operator, limit=50, **params)["items"]]
        assert numbers == listed, f"the file holds what the list shows for {params}"
        return numbers

    assert exported(q="登录页面") == [login["number"]]
    assert exported(open="true", sort="oldest") == [mine["number"], login["number"]]
    assert exported(assignee="nobody") == [login["number"]]
    assert set(exported(assignee="me")) == {mine["number"], done["number"]}
