"""A person at the console, without a browser: an HTTP client that logs in through the login form and sends each
page's CSRF token the way the pages do."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from opscenter.auth import passwords
from opscenter.db import Database
from opscenter.identity.models import User
from tests import loopback
from tests.factories import SETUP, Identity

PASSWORD = "Kq7-river-Lamp"  # takes the policy: 14 characters, four kinds, not a login name
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def give_password(db: Database, who: Identity, password: str = PASSWORD, *, must_change: bool = False) -> None:
    with db.transaction(write=True) as session:
        user = session.get_one(User, who.user_id)
        passwords.set_password(session, user, password, actor=SETUP, must_change=must_change)


class Person:
    """A browser-like client: keeps cookies, follows no redirects (tests look at each answer)."""

    def __init__(self, base_url: str) -> None:
        self.http = loopback.client(base_url=base_url, timeout=30, follow_redirects=False)
        self.csrf = ""

    def log_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        form = self.http.get("/console/login")
        token = _LOGIN_TOKEN.search(form.text)
        assert token is not None, form.text
        answer = self.http.post(
            "/console/login", data={"login_token": token.group(1), "name": name, "password": password, "next": ""}
        )
        if answer.status_code == 303:
            self.page("/console/account")  # any page: it carries the session's CSRF token
        return answer

    def page(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = self.http.get(path, **kwargs)
        found = _CSRF.search(answer.text)
        if found is not None:
            self.csrf = found.group(1)
        return answer

    def submit(
        self, path: str, fields: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        data = dict(fields or {})
        if csrf:
            data["csrf_token"] = self.csrf
        return self.http.post(path, data=data, **kwargs)

    def close(self) -> None:
        self.http.close()


@contextmanager
def logged_in(base_url: str, db: Database, who: Identity) -> Iterator[Person]:
    """``who`` at the console: given a password, logged in, holding its CSRF token."""
    give_password(db, who)
    person = Person(base_url)
    try:
        assert person.log_in(who.user_name).status_code == 303
        yield person
    finally:
        person.close()
