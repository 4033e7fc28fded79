"""The console in a real browser (Debian's chromium, driven by Playwright) against a real ``opscenter serve``: each
role logs in and does its day, the refusals hold, every page passes axe-core (the vendored copy, run in the page)
with no serious or critical violation, and no page asks anything of a host other than 127.0.0.1.

Screenshots of the pages go to ``test-artifacts/console/`` (ignored by git)."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import update
from sqlmodel import select

from operations.tickets import jobs
from opscenter.audit.models import AuditEvent
from opscenter.auth.models import ConsoleSession
from opscenter.console.assets import STATIC_PATH
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.console.browser.conftest import refusals_of
from tests.console.people import PASSWORD, give_password
from tests.contracts.steps import act, approved_request, budget, catalog_service, draft_contract, draft_request, item
from tests.factories import Identity, World
from tests.operations.tickets.steps import instance, open_ticket
from tests.processes import OpsCenterProcess, eventually, free_port

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "console"
AXE = f"{STATIC_PATH}/vendor/axe-core/axe.min.js"
SEVERE = ("serious", "critical")


@pytest.fixture
def console(settings: Settings, tmp_path: Path, db: Database) -> Iterator[str]:
    """A real ``opscenter serve`` on the test database."""
    import httpx

    port = free_port()
    env = {"OPSCENTER_DATABASE_URL": settings.database_url}
    with OpsCenterProcess(["serve", "--no-scheduler", "--port", str(port)], env=env, log=tmp_path / "serve.log"):
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(up, within=30, what="opscenter serve answered /health")
        yield base


class Desk:
    """One person's browser tab, recording every request it makes."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 768}, locale="zh-CN")
        self.page: Page = self.context.new_page()
        self.requested: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.refused = refusals_of(self.page)

    def log_in(self, who: Identity, password: str = PASSWORD) -> None:
        self.page.goto("/")
        self.page.get_by_label("用户名").fill(who.user_name)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()

    def check(self, name: str) -> None:
        """The page passes axe-core with nothing serious or critical, and is kept as a screenshot."""
        # From the server, as any script of the page: an inline copy would be refused by the page's policy.
        self.page.add_script_tag(url=AXE)
        severe = self.page.evaluate(
            "async (severe) => (await axe.run()).violations.filter(v => severe.includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
            list(SEVERE),
        )
        assert severe == [], f"{name}: {severe}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        elsewhere = [url for url in self.requested if not url.startswith("http://127.0.0.1:")]
        self.context.close()
        assert elsewhere == [], "requests left the machine"
        assert self.refused == [], "the Content-Security-Policy refused something a page needs"


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
