"""The console in a real browser (Debian's chromium, driven by Playwright) against a real ``opscenter serve``: each
role logs in and does its day, the refusals hold, every page passes axe-core (the vendored copy, run in the page)
with no serious or critical violation, and no page asks anything of a host other than 127.0.0.1.

Screenshots of the pages go to ``test-artifacts/console/`` (ignored by git)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser
from sqlalchemy import update
from sqlmodel import select

from operations.tickets import jobs
from opscenter.audit.models import AuditEvent
from opscenter.auth.models import ConsoleSession
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.console.browser.conftest import Desk
from tests.console.people import give_password
from tests.contracts.steps import act, approved_request, budget, catalog_service, draft_contract, draft_request, item
from tests.factories import World
from tests.operations.tickets.steps import instance, open_ticket

# Once, in the SQLite run: what a browser adds (the pages' markup, HTMX, the scripts, axe-core, the screenshots) is the
# same whichever database is behind the server. The pages' queries run on PostgreSQL in tests/console, over HTTP.
pytestmark = pytest.mark.once


def _submitted(api: ApiFactory, world: World, title: str) -> dict[str, str]:
    request = draft_request(
        api, world.department, item(catalog_service(api, world, code=title), quantity=2), title=title
    )
    return act(api, world.department, f"/api/v1/purchase-requests/{request['id']}", "submit")


def test_each_role_does_its_day_and_every_refusal_holds(
    browser: Browser, console: str, api: ApiFactory, world: World, db: Database
) -> None:
    budget(api, world, world.department, 2027, "500000.00")
    first, second = _submitted(api, world, "PR-A"), _submitted(api, world, "PR-B")
    served = instance(api, world)
    late = open_ticket(api, world.department, served, priority="P1")
    jobs.sweep(db, JobContext(now=utcnow() + timedelta(hours=5), actor=Actor.system("job:tickets.sweep", "test")))
    fresh = open_ticket(api, world.department, served, priority="P3")
    agreed = approved_request(api, world, world.department, item(catalog_service(api, world, code="PR-C"), quantity=1))
    contract = draft_contract(api, world, [agreed], by=world.bureau)
    for who in (world.bureau, world.bureau2, world.operator, world.department, world.department_b):
        give_password(db, who)

    # The bureau approves a purchase request through the queue and sees the budget move.
    bureau = Desk(browser, console)
    bureau.log_in(world.bureau)
    bureau.page.wait_for_url("**/console")
    bureau.check("awaiting-bureau")
    bureau.page.get_by_role("link", name="待审批的采购申请").click()
    bureau.check("purchase-requests")
    bureau.page.get_by_role("link", name="PR-A").click()
    assert "¥18,000.00" in bureau.page.locator("#budgets").inner_text()  # the contract's request, committed
    bureau.check("purchase-request")
    bureau.page.get_by_label("审批意见").fill("同意")
    bureau.page.get_by_role("button", name="批准").click()
    assert bureau.page.locator("#status").inner_text() == "已批准"
    assert "¥54,000.00" in bureau.page.locator("#budgets").inner_text()  # and now 2 × ¥1,500.00 × 12 months more
    # A stale form: someone else returned the other request meanwhile.
    bureau.page.goto(f"/console/purchase-requests/{second['id']}")
    act(api, world.bureau2, f"/api/v1/purchase-requests/{second['id']}", "return", {"comment": "请补充"})
    bureau.page.get_by_role("button", name="批准").click()
    assert "已被他人修改" in bureau.page.locator("[role=alert]").inner_text()
    assert bureau.page.locator("#status").inner_text() == "已退回"
    # A form posted without its CSRF token: refused, nothing changes.
    forged = bureau.page.request.post(f"/console/purchase-requests/{first['id']}/reject", form={"version": "3"})
    assert forged.status == 403
    # Four eyes: the drafter of a contract is told a second bureau user approves it.
    bureau.page.goto(f"/console/contracts/{contract['id']}")
    assert "须由另一位管理局人员审批" in bureau.page.locator("#four-eyes").inner_text()
    assert bureau.page.get_by_role("button", name="审批生效").count() == 0
    bureau.page.goto("/console/overview")
    bureau.page.wait_for_selector(".chart svg")
    bureau.check("overview")
    # An expired session: idle past the timeout, the next page is the login page.
    with db.transaction(write=True) as session:
        session.execute(update(ConsoleSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    bureau.page.goto("/console")
    assert re.search(r"/console/login", bureau.page.url)
    bureau.check("login")
    bureau.close()

    # The second bureau user approves the contract the first drafted.
    approver = Desk(browser, console)
    approver.log_in(world.bureau2)
    approver.page.goto(f"/console/contracts/{contract['id']}")
    approver.page.get_by_role("button", name="审批生效").click()
    assert approver.page.locator("#status").inner_text() == "已生效"
    approver.check("contract")
    approver.close()

    # The operator takes a ticket through its states and sees the breach in red.
    operator = Desk(browser, console)
    operator.log_in(world.operator)
    operator.page.goto("/console/tickets")
    breached = operator.page.locator("tr.breached", has_text=late["number"])
    assert "已违约" in breached.inner_text()
    red = breached.locator("td").first.evaluate("cell => getComputedStyle(cell).color")
    assert red == "rgb(138, 28, 28)"
    operator.check("ticket-board")
    operator.page.get_by_role("link", name=fresh["number"]).click()
    for step, state in (("受理", "已受理"), ("开始处理", "处理中")):
        operator.page.get_by_role("button", name=step).click()
        assert operator.page.locator("#status").inner_text() == state
    operator.page.get_by_label("说明").fill("已重启负载均衡。")
    operator.page.get_by_role("button", name="标记已解决").click()
    assert operator.page.locator("#status").inner_text() == "已解决"
    operator.check("ticket")
    operator.close()

    # The department rates the service it uses this month.
    department = Desk(browser, console)
    department.log_in(world.department)
    department.page.get_by_role("link", name="本月待评价的服务").click()
    department.page.get_by_label("评分（0–100）").fill("92")
    department.page.get_by_label("意见").fill("响应及时")
    department.page.get_by_role("button", name="提交评价").click()
    assert "响应及时" in department.page.locator("#given").inner_text()
    department.check("ratings")
    department.close()

    # Another department's ticket is a 404, as a missing one.
    stranger = Desk(browser, console)
    stranger.log_in(world.department_b)
    answer = stranger.page.goto(f"/console/tickets/{late['id']}")
    assert answer is not None
    assert answer.status == 404
    stranger.check("not-found")
    stranger.close()

    # The sixth wrong password locks the name, and says so; the lock-out is audited.
    guesser = Desk(browser, console)
    for _ in range(6):
        guesser.log_in(world.bureau, "Wrong-password-1")
    assert "已暂时锁定" in guesser.page.locator("[role=alert]").inner_text()
    guesser.close()
    with db.transaction(write=False) as session:
        actions = set(session.exec(select(AuditEvent.action)))
    assert {
        "console.login",
        "console.lockout",
        "purchase_request.approve",
        "contract.approve",
        "ticket.resolve",
    } <= actions
