"""Contracts in the console: four eyes, visible — the drafter is told a second bureau user must approve, and is
refused if they try; the second bureau user approves."""

import re

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.contracts.steps import approved_request, budget, catalog_service, draft_contract, item
from tests.factories import World
from tests.support import RunningServer


def test_the_second_bureau_user_approves_a_contract_the_first_drafted_and_the_first_cannot(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    budget(api, world, world.department, 2027, "500000.00")
    request = approved_request(api, world, world.department, item(catalog_service(api, world)))
    contract = draft_contract(api, world, [request], by=world.bureau)
    page = f"/console/contracts/{contract['id']}"
    with logged_in(server.base_url, db, world.bureau) as drafter:
        shown = drafter.page(page).text
        assert "此合同由您起草，须由另一位管理局人员审批" in shown
        assert "审批生效" not in shown
        refused = drafter.submit(f"{page}/approve", {"version": str(contract["version"])})
        assert refused.status_code == 403
        assert "second bureau user" in refused.text
    with logged_in(server.base_url, db, world.bureau2) as approver:
        form = approver.page(page).text
        assert "起草人 li.na 以外的管理局人员审批" in form
        version = re.search(r'name="version" value="(\d+)"', form)
        assert version is not None
        answer = approver.submit(f"{page}/approve", {"version": version.group(1)})
        assert answer.status_code == 303
        assert "已生效" in approver.page(page).text
    assert api.as_(world.auditor).get(f"/api/v1/contracts/{contract['id']}").json()["status"] == "approved"
