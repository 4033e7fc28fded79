"""Console pages against their JSON lists: what a page adds to the API's list of the same rows.

For SQLite (WAL file) and PostgreSQL (a scratch database), in one run each:

- demo:    ``opscenter demo`` (the demo province), each person of its roles logged in through the console's login
           form (a real session cookie), then each main page beside the JSON list of the same rows (same service,
           same default page size) as the same person with the API key the demo printed: the bureau's purchase
           requests, contracts and ratings, the operations center's ticket board, the auditor's audit trail, the
           admin's users and API keys; "awaiting me" and the overview (no single JSON list) beside ``/health``.
- board:   the ticket board with ``--tickets`` (100,000) open tickets seeded as ``bench/tickets.py`` seeds them,
           beside ``GET /api/v1/tickets`` for the operations center, first page.

Each at one connection (the cost of one page, unqueued). Goals: a page at least 0.5x its JSON list's throughput
(it costs at most 2x), p95 at most 50 ms (the table gives p99 beside it).

    .venv/bin/python -m bench.console_pages [--db sqlite|postgresql|both] [--seconds 5] [--tickets 100000]
                                            [--scale demo|tiny] [--pin]

``--scale tiny`` replaces the demo by one person of each role and nothing else (tests/bench/test_smoke.py: the demo
takes minutes to seed).
"""

import argparse
import os
import re
import subprocess
from datetime import UTC, datetime

from bench.harness import (
    BIN,
    HEALTH,
    Figure,
    Load,
    Server,
    arguments,
    check,
    chosen,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
)
from bench.tickets import seed_tickets
from opscenter.auth import passwords
from opscenter.db import Database
from opscenter.identity.models import Role
from opscenter.organizations import service as organizations
from tests import loopback
from tests.factories import SETUP, world

PASSWORD = "Bench-Lamp-2026"  # noqa: S105 (a scratch database's bench person)
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
# Each main page, by role, beside the JSON list of the same rows (None: no one list; beside /health).
PAGES: dict[str, list[tuple[str, str, str | None]]] = {
    "bureau": [
        ("awaiting me", "/console", None),
        ("purchase requests", "/console/purchase-requests", "/api/v1/purchase-requests"),
        ("contracts", "/console/contracts", "/api/v1/contracts"),
        ("ratings", "/console/ratings", "/api/v1/ratings"),
        ("overview", "/console/overview", None),
    ],
    "operator": [("ticket board", "/console/tickets", "/api/v1/tickets")],
    "auditor": [("audit trail", "/console/audit", "/api/v1/audit-events")],
    "admin": [("users", "/console/users", "/api/v1/users"), ("API keys", "/console/api-keys", "/api/v1/api-keys")],
}


def seed_demo(url: str) -> dict[str, tuple[str, str, str]]:
    """``opscenter demo`` on ``url``; (login, key, password) by role, as it prints them."""
    env = {**os.environ, "OPSCENTER_DATABASE_URL": url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(BIN / "opscenter"), "demo"], env=env, capture_output=True, text=True, check=True)
    lines = (line.split("\t") for line in done.stdout.splitlines() if line.count("\t") == 3)
    return {role: (login, key, password) for role, login, key, password in lines}


def seed_people(url: str) -> dict[str, tuple[str, str, str]]:
    """One person of each role (the tests' world), each with a console password: (login, key, password) by role."""
    database = Database(settings_for(url))
    try:
        people = world(database)
        with database.transaction(write=True) as session:
            for role in Role:
                user = organizations.find_user(session, people.by_role(role).user_name)
                assert user is not None
                passwords.set_password(session, user, PASSWORD, actor=SETUP, must_change=False)
    finally:
        database.dispose()
    return {role.value: (people.by_role(role).user_name, people.by_role(role).key, PASSWORD) for role in Role}


def session_cookie(server: Server, login: str, password: str) -> dict[str, str]:
    """Log in through the console's login form as a browser does; the session cookie as a request header."""
    with loopback.client(base_url=server.base_url, timeout=60, follow_redirects=False) as browser:
        form = browser.get("/console/login")
        token = _LOGIN_TOKEN.search(form.text)
        if token is None:
            raise RuntimeError(f"no login form at /console/login: {form.status_code}")
        fields = {"login_token": token.group(1), "name": login, "password": password, "next": "/console"}
        answer = browser.post("/console/login", data=fields)
        if answer.status_code != 303 or answer.headers["location"] != "/console":
            raise RuntimeError(f"logging in as {login}: {answer.status_code} {answer.headers.get('location')}")
        return {"Cookie": f"opscenter_session={browser.cookies['opscenter_session']}"}


def pairs(server: Server, role: str, login: str, key: str, password: str) -> list[Load]:
    """Each page of ``role`` beside its JSON list (or /health)."""
    cookie = session_cookie(server, login, password)
    bearer = {"Authorization": f"Bearer {key}"}
    loads = []
    for name, page, listing in PAGES[role]:
        baseline = HEALTH.name
        if listing is not None:
            baseline = f"{role}: GET {listing}"
            loads.append(Load(baseline, listing, headers=bearer))
        loads.append(Load(f"{role}: page {name}", page, headers=cookie, baseline=baseline))
    return loads


def measure(server: Server, loads: list[Load], args: argparse.Namespace) -> list[Figure]:
    load = options(args)
    figures = []
    for request in [HEALTH, *loads]:
        check(server, request)
        figures.append(drive(server, request, load, connections=1))
    return figures


def give_password(url: str, login: str) -> None:
    database = Database(settings_for(url))
    try:
        with database.transaction(write=True) as session:
            user = organizations.find_user(session, login)
            assert user is not None, login
            passwords.set_password(session, user, PASSWORD, actor=SETUP, must_change=False)
    finally:
        database.dispose()


def run(db_name: str, url: str, board_url: str, args: argparse.Namespace) -> None:
    demo = seed_demo(url) if args.scale == "demo" else seed_people(url)
    with opscenter_server(url, pin=args.pin) as server:
        loads = [load for role in PAGES for load in pairs(server, role, *demo[role])]
        figures = measure(server, loads, args)
    print_figures(
        f"{db_name}: console pages at {args.scale} scale, 1 connection (goals: >= 0.50x the JSON list, p95 <= 50 ms), "
        f"{each(options(args))}",
        figures,
    )
    operator_key, _department_key, _instance = seed_tickets(board_url, args.tickets, datetime.now(UTC))
    give_password(board_url, "bench.operator")
    with opscenter_server(board_url, pin=args.pin) as server:
        board = pairs(server, "operator", "bench.operator", operator_key, PASSWORD)
        figures = measure(server, board, args)
    print_figures(
        f"{db_name}: the ticket board over {args.tickets:,} open tickets, 1 connection "
        f"(goals: >= 0.50x the JSON list, p95 <= 50 ms), {each(options(args))}",
        figures,
    )


def main() -> None:
    parser = arguments(__doc__, load=True, seconds=5)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--scale", choices=("demo", "tiny"), default="demo")
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    # Two fresh databases of each kind: the demo's province, and the board's 100,000 tickets.
    with databases(chosen(args)) as demos, databases(chosen(args)) as boards:
        for db_name, url in demos.items():
            run(db_name, url, boards[db_name], args)


if __name__ == "__main__":
    main()
