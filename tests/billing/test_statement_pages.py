"""Statements in the console: the operations center issues a draft, a department reads its lines (money as people
read it) and disputes one, the bureau resolves the dispute (a reason required) and approves (a note optional).
The same flows, scoping and audit as the API; a stale form changes nothing and shows the statement as it stands."""

import re
from decimal import Decimal

from opscenter.db import Database
from tests.billing import steps
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.factories import World
from tests.support import RunningServer

PAGE = "/console/statements/{}"


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def test_the_operations_center_issues_a_draft(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    draft = steps.statement_in(api, world, "draft")
    with logged_in(server.base_url, db, world.operator) as operator:
        assert draft["contract_number"] in operator.page("/console/statements?status=draft").text
        page = PAGE.format(draft["id"])
        issued = operator.submit(f"{page}/issue", {"version": _version(operator.page(page).text)})
        assert issued.status_code == 303
        assert "已出具，已通知" in operator.page(issued.headers["location"]).text
    assert steps.read(api, world.bureau, draft["id"])["issued_by_name"] == "zhao.min"


def test_a_stale_form_changes_nothing_and_shows_the_statement_as_it_stands(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    draft = steps.statement_in(api, world, "draft")
    page = PAGE.format(draft["id"])
    with logged_in(server.base_url, db, world.operator) as operator:
        stale = _version(operator.page(page).text)
        steps.act(api, world.operator, draft, "issue")
        refused = operator.submit(f"{page}/issue", {"version": stale})
        assert refused.status_code == 412
        assert "已被他人修改" in refused.text
        assert re.search(r'id="status">已出具<', refused.text)


def test_a_department_disputes_its_line_and_the_bureau_resolves_it_then_approves(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    statement = steps.statement_in(api, world, "issued")
    page = PAGE.format(statement["id"])
    base = steps.line(statement, 1)["base"]
    with logged_in(server.base_url, db, world.department) as department:
        lines = department.page(page).text
        assert f"¥{Decimal(base):,.2f}" in lines  # money as people read it
        disputed = department.submit(f"{page}/disputes", {"line_no": "1", "reason": "10月12日停电已报备维护窗口"})
        assert disputed.status_code == 303
        assert "申诉中" in department.page(page).text
    with logged_in(server.base_url, db, world.bureau) as bureau:
        awaiting = bureau.page("/console").text
        assert re.search(r'<div class="h1 mb-1">1</div>\s*<div>\s*<a href="[^"]+">待处理的结算申诉</a>', awaiting)
        shown = bureau.page(page).text
        held = bureau.submit(f"{page}/approve", {"version": _version(shown), "note": ""})
        assert held.status_code == 409  # an open dispute holds the approval
        assert "disputed" in held.text
        dispute = re.search(r"/disputes/([0-9a-f-]{36})/resolve", shown)
        assert dispute is not None
        resolve = f"{page}/disputes/{dispute.group(1)}/resolve"
        version = re.search(rf'{resolve}".*?name="version" value="(\d+)"', shown, re.S)
        assert version is not None
        no_reason = bureau.submit(resolve, {"version": version.group(1), "resolution": "accepted", "reason": " "})
        assert no_reason.status_code == 422
        assert "请填写理由" in no_reason.text
        resolved = bureau.submit(resolve, {"version": version.group(1), "resolution": "accepted", "reason": "核实无误"})
        assert resolved.status_code == 303
        approved = bureau.submit(f"{page}/approve", {"version": _version(bureau.page(page).text), "note": ""})
        assert approved.status_code == 303
        assert "已批准，结算单已锁定" in bureau.page(approved.headers["location"]).text
    history = api.as_(world.auditor).get(f"/api/v1/statements/{statement['id']}/history").json()["items"]
    assert history[-1]["action"] == "statement.approve"
    assert history[-1]["actor_name"] == "li.na"


def test_another_departments_statement_is_a_404(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    statement = steps.statement_in(api, world, "issued")
    with logged_in(server.base_url, db, world.department_b) as stranger:
        assert stranger.page(PAGE.format(statement["id"])).status_code == 404
        refused = stranger.submit(f"{PAGE.format(statement['id'])}/disputes", {"line_no": "1", "reason": "不对"})
        assert refused.status_code == 404
