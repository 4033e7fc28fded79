"""The admin's console: users created, given a one-time password they must change, deactivated (their sessions end
with it) and their sessions ended; API keys issued with the key shown once and revoked at the page's version; each
through the API's services, audited with the admin as actor."""

import re

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import PASSWORD, Person, logged_in
from tests.factories import World
from tests.support import RunningServer

ONE_TIME = "Tmp-Harbor-2026"


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def _actions(api: ApiFactory, world: World, action: str) -> list[dict[str, object]]:
    events = api.as_(world.auditor).get("/api/v1/audit-events", params={"action": action}).json()["items"]
    return list(events)


def test_the_admin_creates_a_user_who_must_change_the_one_time_password_at_first_login(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with logged_in(server.base_url, db, world.admin) as admin:
        assert "新建用户" in admin.page("/console/users").text
        fields = {"name": "zhou.min", "display_name": "周敏", "role": "department"}
        created = admin.submit("/console/users", {**fields, "organization_id": str(world.department.organization_id)})
        assert created.status_code == 303, created.text
        user_page = created.headers["location"].split("?")[0]
        weak = admin.submit(f"{user_page}/password", {"password": "short"})
        assert weak.status_code == 422
        assert "至少 12 个字符" in weak.text
        assert admin.submit(f"{user_page}/password", {"password": ONE_TIME}).status_code == 303
        clash = admin.submit("/console/users", {**fields, "organization_id": str(world.department.organization_id)})
        assert clash.status_code == 409  # the API's refusal for a taken login name
    newcomer = Person(server.base_url)
    try:
        first = newcomer.log_in("zhou.min", ONE_TIME)
        assert first.headers["location"] == "/console/password"
        elsewhere = newcomer.page("/console/tickets")
        assert elsewhere.headers["location"].startswith("/console/password")  # nothing opens before it changes
    finally:
        newcomer.close()
    assert _actions(api, world, "user.create")[0]["actor_name"] == "admin"
    assert _actions(api, world, "user.password_set")[0]["actor_name"] == "admin"


def test_deactivating_a_user_ends_their_sessions_and_a_stale_form_changes_nothing(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with (
        logged_in(server.base_url, db, world.department) as person,
        logged_in(server.base_url, db, world.admin) as admin,
    ):
        page = f"/console/users/{world.department.user_id}"
        shown = admin.page(page)
        assert shown.text.count("/sessions/") >= 2  # the person's open session, and "end all"
        api.as_(world.admin).patch(
            f"/api/v1/users/{world.department.user_id}", {"display_name": "陈杰"}, headers={"If-Match": '"1"'}
        )
        stale = admin.submit(f"{page}/deactivate", {"version": _version(shown.text)})
        assert stale.status_code == 412
        assert "已被他人修改" in stale.text
        assert person.page("/console").status_code == 200, "still logged in"
        done = admin.submit(f"{page}/deactivate", {"version": _version(stale.text)})
        assert done.status_code == 303
        assert "已停用" in admin.page(done.headers["location"]).text
        assert person.page("/console").status_code == 303, "the session ended with the deactivation"
    assert _actions(api, world, "user.update")[0]["actor_name"] == "admin"


def test_the_admin_ends_one_session_of_a_person_and_then_all(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with (
        logged_in(server.base_url, db, world.operator) as first,
        logged_in(server.base_url, db, world.admin) as admin,
    ):
        second = Person(server.base_url)
        assert second.log_in(world.operator.user_name, PASSWORD).status_code == 303
        page = f"/console/users/{world.operator.user_id}"
        ends = re.findall(r'action="(/console/users/[^"]+/sessions/[^"/]+/revoke)"', admin.page(page).text)
        assert len(ends) == 2
        assert admin.submit(ends[0]).status_code == 303  # newest first: the second browser's
        assert second.page("/console").status_code == 303
        assert first.page("/console").status_code == 200
        assert admin.submit(ends[0]).status_code == 404  # already ended
        assert admin.submit(f"{page}/sessions/revoke").status_code == 303
        assert first.page("/console").status_code == 303
        second.close()
    assert _actions(api, world, "console.session_revoke")[0]["actor_name"] == "admin"
    assert _actions(api, world, "console.sessions_revoke")[0]["actor_name"] == "admin"


def test_an_api_key_is_shown_once_works_and_is_revoked_from_the_console(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with logged_in(server.base_url, db, world.admin) as admin:
        admin.page("/console/api-keys")
        issued = admin.submit("/console/api-keys", {"name": "评价对接", "user_id": str(world.operator.user_id)})
        assert issued.status_code == 201
        assert issued.headers["cache-control"] == "no-store"
        key = re.search(r'value="(opc_[A-Za-z0-9_-]{43})"', issued.text)
        assert key is not None
        assert api.with_key(key.group(1)).get("/api/v1/me").status_code == 200
        listed = admin.page("/console/api-keys", params={"user_id": str(world.operator.user_id)})
        assert key.group(1) not in listed.text  # never again
        assert key.group(1)[:12] in listed.text
        row = next(row for row in listed.text.split("<tr>") if key.group(1)[:12] in row)
        revoke = re.search(r'action="(/console/api-keys/[^"]+/revoke)".*?name="version" value="(\d+)"', row, re.S)
        assert revoke is not None
        assert admin.submit(revoke.group(1), {"version": revoke.group(2)}).status_code == 303
    keys = api.as_(world.auditor).get("/api/v1/api-keys", params={"user_id": str(world.operator.user_id)}).json()
    assert [row["revoked_at"] is not None for row in keys["items"] if row["prefix"] == key.group(1)[:12]] == [True]
    assert _actions(api, world, "api_key.revoke")[0]["actor_name"] == "admin"


def test_the_admin_names_the_person_of_a_key_by_login_name_and_an_unknown_name_is_refused_by_field(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with logged_in(server.base_url, db, world.admin) as admin:
        filtered = admin.page("/console/api-keys", params={"user": world.operator.user_name})
        assert filtered.status_code == 200
        assert f'value="{world.operator.user_name}"' in filtered.text  # the filter, and the form's person, kept
        assert world.department.user_name not in filtered.text  # only the people the page's rows name
        unknown = admin.page("/console/api-keys", params={"user": "nobody.here"})
        assert unknown.status_code == 400
        assert "没有登录名为 nobody.here 的用户" in unknown.text
        refused = admin.submit("/console/api-keys", {"name": "对接", "user_name": "nobody.here"})
        assert refused.status_code == 422
        assert "user_name" in refused.text
        issued = admin.submit("/console/api-keys", {"name": "工单对接", "user_name": world.department.user_name})
        assert issued.status_code == 201, issued.text
    keys = api.as_(world.auditor).get("/api/v1/api-keys", params={"user_id": str(world.department.user_id)}).json()
    assert "工单对接" in [row["name"] for row in keys["items"]]
