"""People log in to the console with a password; the session lives in the database and ends when it should."""

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from opscenter.audit.models import AuditEvent
from opscenter.auth.models import ConsoleSession
from opscenter.db import Database
from opscenter.identity.models import User
from opscenter.timekeeping import utcnow
from tests import loopback
from tests.console.people import PASSWORD, Person, give_password
from tests.factories import World
from tests.support import RunningServer


def _actions(db: Database) -> list[str]:
    with db.transaction(write=False) as session:
        return list(session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))))


def test_the_root_leads_to_the_console_and_the_console_to_its_login_page(person: Person) -> None:
    assert person.http.get("/").headers["location"] == "/console"
    answer = person.http.get("/console")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console"
    htmx = person.http.get("/console/awaiting/counts", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/console/login")


def test_a_person_logs_in_with_a_session_cookie_only_the_console_reads(
    person: Person, world: World, db: Database
) -> None:
    give_password(db, world.bureau)
    answer = person.log_in("li.na")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # OPSCENTER_CONSOLE_SECURE_COOKIES is off on plain HTTP
    start = person.page("/console")
    assert start.status_code == 200
    assert "li.na" in start.text
    assert "待审批的采购申请" in start.text
    # The cookie is a console credential only: the API wants a key.
    with loopback.client(base_url=str(person.http.base_url)) as machine:
        machine.cookies.set("opscenter_session", person.http.cookies["opscenter_session"])
        assert machine.get("/api/v1/me").status_code == 401
    assert _actions(db)[-1] == "console.login"
    with db.transaction(write=False) as session:
        stored = session.exec(select(ConsoleSession)).one()
        assert stored.token_hash != person.http.cookies["opscenter_session"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_refusal(person: Person, world: World, db: Database) -> None:
    give_password(db, world.bureau)
    wrong = person.log_in("li.na", "Wrong-password-1")
    unknown = person.log_in("no.one", "Wrong-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.text
    assert "用户名或密码不正确" in unknown.text
    assert _actions(db)[-2:] == ["console.login_failed", "console.login_failed"]


def test_the_sixth_wrong_password_locks_the_name_even_against_the_right_one(
    person: Person, world: World, db: Database
) -> None:
    give_password(db, world.bureau)
    for _ in range(5):
        assert person.log_in("li.na", "Wrong-password-1").status_code == 401
    sixth = person.log_in("li.na", "Wrong-password-1")
    assert sixth.status_code == 429
    assert "已暂时锁定" in sixth.text
    assert "console.lockout" in _actions(db)
    assert person.log_in("li.na", PASSWORD).status_code == 429
    assert _actions(db)[-1] == "console.login_locked"
    # Another person from the same address is not locked out by it (the address's limit is higher).
    give_password(db, world.operator)
    assert person.log_in("zhao.min").status_code == 303


def test_a_password_an_admin_set_is_changed_before_any_page_opens(person: Person, world: World, db: Database) -> None:
    give_password(db, world.department, must_change=True)
    assert person.log_in("chen.jie").headers["location"] == "/console/password"
    assert person.page("/console").headers["location"] == "/console/password"
    form = person.page("/console/password")
    assert form.status_code == 200
    weak = person.submit("/console/password", {"current_password": PASSWORD, "new_password": "chen.jie-2026-X"})
    assert weak.status_code == 422
    assert "不得包含用户名" in weak.text
    same = person.submit("/console/password", {"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422
    changed = person.submit("/console/password", {"current_password": PASSWORD, "new_password": "Blue-Harbor-42"})
    assert changed.status_code == 303
    assert person.page("/console").status_code == 200
    assert "user.password_set" in _actions(db)


def test_logging_out_ends_the_session_everywhere_it_was_held(
    person: Person, other_person: Person, world: World, db: Database
) -> None:
    give_password(db, world.operator)
    person.log_in("zhao.min")
    other_person.log_in("zhao.min")
    stolen = person.http.cookies["opscenter_session"]
    assert person.submit("/console/logout").status_code == 303
    with loopback.client(base_url=str(person.http.base_url)) as thief:
        thief.cookies.set("opscenter_session", stolen, path="/console")
        assert thief.get("/console").status_code == 303  # the old cookie no longer works
    assert other_person.page("/console").status_code == 200
    assert other_person.submit("/console/logout-everywhere").status_code == 303
    person.log_in("zhao.min")
    with db.transaction(write=False) as session:
        open_ones = session.exec(select(ConsoleSession).where(col(ConsoleSession.revoked_at).is_(None))).all()
    assert len(open_ones) == 1
    assert {"console.logout", "console.logout_everywhere"} <= set(_actions(db))


def test_a_deactivated_user_loses_every_session(
    person: Person, world: World, db: Database, server: RunningServer
) -> None:
    give_password(db, world.department)
    person.log_in("chen.jie")
    with db.transaction(write=True) as session:
        user = session.get_one(User, world.department.user_id)
        user.is_active = False
    assert person.page("/console").status_code == 303
    with db.transaction(write=False) as session:
        assert session.exec(select(ConsoleSession)).one().revoked_at is not None


def test_a_session_idle_past_the_timeout_sends_its_person_to_log_in_again(
    person: Person, world: World, db: Database
) -> None:
    give_password(db, world.auditor)
    person.log_in("sun.li")
    assert person.page("/console").status_code == 200
    with db.transaction(write=True) as session:
        session.execute(update(ConsoleSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert person.page("/console").headers["location"] == "/console/login?next=/console"


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    person: Person, world: World, db: Database
) -> None:
    give_password(db, world.admin)
    person.log_in("admin")
    refused = person.submit("/console/logout-everywhere", csrf=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    forged = person.submit("/console/logout-everywhere", {"csrf_token": "0" * 64}, csrf=False)
    assert forged.status_code == 403
    assert person.page("/console").status_code == 200  # still logged in: nothing happened
    # HTMX sends it in a header, from the page's hx-headers.
    assert person.http.post("/console/logout", headers={"X-CSRF-Token": person.csrf}).status_code == 303


def test_the_login_form_needs_its_own_token(person: Person, world: World, db: Database) -> None:
    give_password(db, world.bureau)
    forged = person.http.post("/console/login", data={"name": "li.na", "password": PASSWORD, "login_token": "x"})
    assert forged.status_code == 403
