"""Every route × every role, against the table in tests/permissions.

A route the app serves but the table lacks fails ``test_every_route_is_in_the_table``; a route whose
guard admits other roles than the table says fails ``test_guards_match_the_table``. Each row is also
run for real, over HTTP, as each role.
"""

import inspect
import re

import httpx
import litestar
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.utils.sync import AsyncCallable

from opscenter.app import create_app
from opscenter.identity.guards import admitted_roles
from opscenter.identity.models import Organization, OrgKind, Role
from opscenter.settings import Settings
from opscenter.web import DEPENDENCIES, HOUSE_TRANSACTION, DbSession
from opscenter.web import post as house_post
from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions import PUBLIC_PATHS, ROWS
from tests.permissions.table import Row
from tests.test_locations import assert_location_reads_back

# Once, in the SQLite run. Whether a role is admitted is decided by the guard before anything is read, and an admitted
# role's answer comes from handlers that tests/<domain> and tests/fuzz run on PostgreSQL too: on PostgreSQL the table
# took 100 s of the run and could find nothing the SQLite run had not.
pytestmark = pytest.mark.once

TABLE = {row.key: row for row in ROWS}


def _served_routes(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    served: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("OPTIONS", "HEAD"):
                    served[(method, path)] = handler
    return served


def _is_public(path: str) -> bool:
    return any(path == public or path.startswith(public + "/") for public in PUBLIC_PATHS)


@pytest.fixture(scope="module")
def served(settings: Settings) -> dict[tuple[str, str], HTTPRouteHandler]:
    return _served_routes(create_app(settings))


def test_every_route_is_in_the_table(served: dict[tuple[str, str], HTTPRouteHandler]) -> None:
    private = {key for key in served if not _is_public(key[1])}
    assert sorted(private - TABLE.keys()) == [], "routes missing from the permission table"
    assert sorted(TABLE.keys() - private) == [], "table rows for routes the app does not serve"


def test_guards_match_the_table(served: dict[tuple[str, str], HTTPRouteHandler]) -> None:
    for key, handler in served.items():
        if _is_public(key[1]):
            assert admitted_roles(handler) is None, f"{key} is public and must not carry a role guard"
            continue
        admitted = admitted_roles(handler)
        assert admitted is not None, f"{key} has no role guard"
        table_admits = {role for role, status in TABLE[key].expect.items() if status != 403}
        assert admitted == table_admits, f"{key}: guard admits {sorted(admitted)}, table says {sorted(table_admits)}"


def transaction_marks(served: dict[tuple[str, str], HTTPRouteHandler]) -> tuple[int, list[str]]:
    """How many handlers take a session, and what is wrong with their transaction marks.

    Litestar wraps a ``sync_to_thread`` handler in an ``AsyncCallable`` whose own signature is ``(*args, **kwargs)``:
    the parameters are read from the signature Litestar parsed, and the mark from the function it wraps.
    """
    checked, wrong = 0, []
    for key, handler in served.items():
        if "session" not in handler.parsed_fn_signature.parameters:
            continue
        checked += 1
        function = handler.fn.func if isinstance(handler.fn, AsyncCallable) else handler.fn
        mode = getattr(function, HOUSE_TRANSACTION, None)
        writes = any(method not in ("GET", "HEAD", "OPTIONS") for method in handler.http_methods)
        if mode is None:
            wrong.append(f"{key} takes a session but is not registered through opscenter.web's decorators")
        elif mode != ("write" if writes else "read"):
            wrong.append(f"{key} is a {mode} transaction for {sorted(handler.http_methods)}")
    return checked, wrong


def test_every_handler_with_a_session_runs_in_the_house_transaction(
    served: dict[tuple[str, str], HTTPRouteHandler],
) -> None:
    """A handler registered with bare ``litestar.post`` would get a session that nobody commits: it would answer
    200 and save nothing. Only the house decorators (opscenter.web.get/post/…) end the transaction."""
    checked, wrong = transaction_marks(served)
    taking_a_session = sum(
        "session"
        in inspect.signature(handler.fn.func if isinstance(handler.fn, AsyncCallable) else handler.fn).parameters
        for handler in served.values()
    )
    assert wrong == []
    assert checked == taking_a_session > 100  # every one of them inspected, not a signature of (*args, **kwargs)


def test_the_transaction_check_refuses_a_handler_outside_the_house() -> None:
    """The check above fails on a handler that takes a session but was registered with bare Litestar."""

    @litestar.post("/bare", sync_to_thread=True)
    def bare(session: DbSession) -> None:
        session.add(Organization(name="never committed", kind=OrgKind.DEPARTMENT))

    @house_post("/housed")
    def housed(session: DbSession) -> None:
        session.add(Organization(name="committed", kind=OrgKind.DEPARTMENT))

    app = Litestar([bare, housed], dependencies=DEPENDENCIES)
    checked, wrong = transaction_marks(_served_routes(app))
    assert checked == 2
    assert wrong == ["('POST', '/bare') takes a session but is not registered through opscenter.web's decorators"]


ADMITTED = [
    pytest.param(row, role, id=f"{row.method} {row.path}-{role.value}")
    for row in ROWS
    for role in Role
    if row.expect[role] != 403
]


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_is_refused_every_route_the_table_refuses_it(role: Role, world: World, api: ApiFactory) -> None:
    """The role guard refuses before anything is read: an id that names nothing must get the same 403 (a guard that
    let the role through would answer 404 or another 4xx for it), so the refusals need no world of their own. One
    client sends them all; every route that answers otherwise is named."""
    client = api.as_(world.by_role(role))
    refused = [row for row in ROWS if row.expect[role] == 403]
    wrong = []
    for row in refused:
        response = client.http.request(row.method, _made_up(row.path))
        if response.status_code != 403:
            wrong.append(f"{row.method} {row.path}: {response.status_code} {response.text[:200]}")
    assert refused, f"the table refuses {role.value} nothing"
    assert wrong == [], f"{len(wrong)} of {len(refused)} routes not refused to {role.value}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("row", "role"), ADMITTED)
def test_route_answers_role(row: Row, role: Role, world: World, api: ApiFactory) -> None:
    prepared = row.prepare(world, api)
    headers = dict(prepared.headers)
    if prepared.etag_of is not None:
        headers["If-Match"] = api.as_(world.auditor).get(prepared.etag_of).headers["ETag"]
    client = api.as_(world.by_role(role))

    def send() -> httpx.Response:
        path = row.path.format(**prepared.params)
        return client.http.request(row.method, path, json=prepared.body, headers=headers, params=prepared.query)

    response = send()
    assert response.status_code == row.expect[role], response.text
    if response.status_code == 201:  # a creation: its Location reads it back (tests/test_locations.py)
        assert_location_reads_back(client, response, replay=send if "Idempotency-Key" in headers else None)


def test_unauthenticated_requests_get_401_on_every_route(
    served: dict[tuple[str, str], HTTPRouteHandler], api: ApiFactory
) -> None:
    anonymous = api.as_(None)
    for method, path in served:
        if _is_public(path):
            continue
        answer = anonymous.http.request(method, _made_up(path))
        if path.startswith("/console"):  # a person without a session is sent to the login page
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/console/login"), (method, path)
        else:
            assert answer.status_code == 401, (method, path)


def _made_up(path: str) -> str:
    """The path with parameters of the right shape that name nothing."""
    concrete = re.sub(r"\{number\}", "1", path)
    concrete = re.sub(r"\{day\}", "2027-01-01", concrete)  # paths keyed by a date (calendar overrides)
    concrete = re.sub(r"\{year\}", "2027", concrete)  # a calendar year
    return re.sub(r"\{\w+\}", "01a21ce5-662f-7bdf-87f6-32407b9e9fef", concrete)
