"""The bureau decides maintenance windows in the console: approve with an optional note, reject only with a reason,
at the version the page showed; the proposal is counted in "awaiting me" and linked from there."""

import re
from datetime import timedelta

from opscenter.db import Database
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.contracts import steps as contracts
from tests.factories import World
from tests.support import RunningServer

WINDOWS = "/api/v1/maintenance-windows"
PAGE = "/console/maintenance"


def _proposed(api: ApiFactory, world: World, reason: str) -> dict[str, str]:
    _, instance = contracts.provisioned_instance(api, world)
    starts = utcnow() + timedelta(days=2)
    body = {
        "service_instance_ids": [instance["id"]],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "reason": reason,
    }
    return contracts.ok(api.as_(world.operator).post(WINDOWS, body), 201)


def _version(html: str, window_id: str) -> str:
    found = re.search(rf'/console/maintenance/{window_id}/approve".*?name="version" value="(\d+)"', html, re.S)
    assert found is not None
    return found.group(1)


def test_the_bureau_finds_the_proposal_awaiting_and_rejects_only_with_a_reason_then_approves(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    window = _proposed(api, world, "数据库内核升级")
    with logged_in(server.base_url, db, world.bureau) as bureau:
        awaiting = bureau.page("/console").text
        assert f"{PAGE}?status=proposed" in awaiting
        listing = bureau.page(f"{PAGE}?status=proposed").text
        assert "数据库内核升级" in listing
        version = _version(listing, window["id"])
        no_reason = bureau.submit(f"{PAGE}/{window['id']}/reject", {"version": version, "note": ""})
        assert no_reason.status_code == 422
        assert "驳回时请填写理由" in no_reason.text
        approved = bureau.submit(f"{PAGE}/{window['id']}/approve", {"version": version, "note": ""})
        assert approved.status_code == 303
        assert "已批准维护窗口" in bureau.page(approved.headers["location"]).text
        stale = bureau.submit(f"{PAGE}/{window['id']}/reject", {"version": version, "note": "时间冲突"})
        assert stale.status_code == 412
        assert "已被他人修改" in stale.text
    decided = api.as_(world.auditor).get(f"{WINDOWS}/{window['id']}").json()
    assert (decided["status"], decided["decided_by_name"]) == ("approved", "li.na")


def test_a_rejection_keeps_its_reason_and_the_operations_center_cannot_decide(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    window = _proposed(api, world, "存储扩容")
    with logged_in(server.base_url, db, world.bureau) as bureau:
        version = _version(bureau.page(PAGE).text, window["id"])
        rejected = bureau.submit(f"{PAGE}/{window['id']}/reject", {"version": version, "note": "与重保期冲突"})
        assert rejected.status_code == 303
    with logged_in(server.base_url, db, world.operator) as operator:
        assert "与重保期冲突" in operator.page(PAGE).text
        refused = operator.submit(f"{PAGE}/{window['id']}/approve", {"version": version})
        assert refused.status_code == 403
