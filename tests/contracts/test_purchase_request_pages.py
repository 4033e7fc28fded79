"""The bureau's approval queue in the console: the same flow, scoping and audit as the API, the version the page
showed in every form."""

import re

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.contracts.steps import act, budget, catalog_service, draft_request, item
from tests.factories import World
from tests.support import RunningServer


def _submitted(api: ApiFactory, world: World) -> dict[str, str]:
    service = catalog_service(api, world)
    budget(api, world, world.department, 2027, "500000.00")
    request = draft_request(api, world.department, item(service, quantity=2))
    return act(api, world.department, f"/api/v1/purchase-requests/{request['id']}", "submit")


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def test_the_bureau_approves_through_the_queue_and_sees_the_budget_committed(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    request = _submitted(api, world)
    page = f"/console/purchase-requests/{request['id']}"
    with logged_in(server.base_url, db, world.bureau) as bureau:
        queue = bureau.page("/console/purchase-requests?status=submitted")
        assert request["title"] in queue.text
        detail = bureau.page(page)
        assert "¥0.00" in detail.text  # nothing committed yet
        answer = bureau.submit(f"{page}/approve", {"version": _version(detail.text), "note": "同意"})
        assert answer.status_code == 303
        after = bureau.page(answer.headers["location"])
        assert "已批准" in after.text
        assert "¥36,000.00" in after.text  # 2 × ¥1,500.00 × the 12 months of 2027, committed
    events = api.as_(world.auditor).get(f"/api/v1/purchase-requests/{request['id']}/history").json()["items"]
    assert events[-1]["action"] == "purchase_request.approve"
    assert events[-1]["actor_name"] == "li.na"


def test_a_stale_form_changes_nothing_and_shows_the_request_as_it_now_stands(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    request = _submitted(api, world)
    page = f"/console/purchase-requests/{request['id']}"
    with logged_in(server.base_url, db, world.bureau) as bureau:
        stale = _version(bureau.page(page).text)
        act(api, world.bureau2, f"/api/v1/purchase-requests/{request['id']}", "return", {"comment": "补充说明"})
        answer = bureau.submit(f"{page}/approve", {"version": stale, "note": ""})
        assert answer.status_code == 412
        assert "已被他人修改" in answer.text
        assert "已退回" in answer.text  # the current state
    assert api.as_(world.bureau).get(f"/api/v1/purchase-requests/{request['id']}").json()["status"] == "returned"


def test_rejecting_needs_a_reason_and_another_department_sees_a_404(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    request = _submitted(api, world)
    page = f"/console/purchase-requests/{request['id']}"
    with logged_in(server.base_url, db, world.bureau) as bureau:
        refused = bureau.submit(f"{page}/reject", {"version": _version(bureau.page(page).text), "note": " "})
        assert refused.status_code == 422
        assert "请填写理由" in refused.text
    with logged_in(server.base_url, db, world.department_b) as stranger:
        assert stranger.page(page).status_code == 404
