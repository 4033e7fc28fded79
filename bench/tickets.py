"""Tickets at scale: 100,000 open tickets, the minute sweep, list pages, and ticket creation under load.

For SQLite (WAL file) and PostgreSQL (a scratch database), in one run:

- sweep:    ``tickets.sweep`` as the scheduler runs it (advisory lock, job_run), over 100,000 open tickets
            in every open state: a steady minute (what passed since the last sweep), and the first sweep after
            an hour without one (every mark due in that hour still to make, 200 tickets due to close). Goal:
            under 1 s.
- lists:    ``GET /api/v1/tickets?limit=50`` as the operations center (newest first, and ``sort=due``) and
            as one of ten departments, on the first page and on a page near the end (its cursor found by
            walking the list), at 1 connection and at 50. Goal: p99 under 50 ms. Baseline: ``/health``.
- creation: ``POST /api/v1/tickets`` (API key, Idempotency-Key, the instance and the contract's terms, a
            P3 ticket on the business clock of the working calendar, its audit event) at 50 connections,
            beside the bare one-row insert endpoint (``bench/bare.py``) on the same database. Goals:
            >= 0.5x its throughput, p99 <= 100 ms, server RSS <= 150 MiB.

    .venv/bin/python bench/tickets.py [--db sqlite|postgresql|both] [--seconds 5] [--connections 50]
                                      [--tickets 100000]

For scale: Request Tracker 5 answers about 12 ticket creations per second over REST on a machine like this.
"""

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BARE_INSERT,
    HEALTH,
    Figure,
    Load,
    bare_server,
    bulk_insert,
    check,
    databases,
    drive,
    identity,
    opscenter_server,
    print_figures,
    provisioned_lines,
    require_tools,
    settings_for,
    uuid7_at,
)

DEPARTMENTS = 10
INSTANCES_PER_DEPARTMENT = 5
# Open states, as an operations floor carries them.
STATES = ["new"] * 2 + ["acknowledged"] * 2 + ["in_progress"] * 4 + ["pending_customer", "resolved"]
PRIORITIES = ["P1", "P2", "P3", "P3", "P4", "P4"]
TARGETS = {"P1": (15, 240), "P2": (30, 480), "P3": (240, 1620), "P4": (480, 2700)}


def seed(url: str, tickets: int, now: datetime) -> tuple[str, str, str]:
    """Ten departments with five instances each under one approved contract, and ``tickets`` open tickets over
    them, opened during the last 20 days; breaches and escalations already marked as a running sweep would
    have them, up to a minute ago. Returns (operator key, a department key, one of its instance ids)."""
    from operations.tickets.models import Ticket
    from opscenter.db import Database

    operator_org, operator_key = identity(
        url, user_name="bench.operator", role="operator", org_name="数字政府运营中心", org_kind="operator"
    )
    departments: list[tuple[uuid.UUID, str]] = [
        identity(url, user_name=f"bench.dept{n}", role="department", org_name=f"部门{n}", org_kind="department")
        for n in range(DEPARTMENTS)
    ]
    database = Database(settings_for(url))
    with database.transaction(write=True) as session:
        instances = provisioned_lines(
            session,
            number="BENCH-TICKETS",
            supplier_id=operator_org,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            department_ids=[department_id for department_id, _ in departments for _ in range(INSTANCES_PER_DEPARTMENT)],
        )
        placed = [(i.id, i.department_id, i.contract_id, i.line_no) for i in instances]
    randomness = random.Random(10)
    began = time.monotonic()
    first = now - timedelta(days=20)
    swept_until = now - timedelta(minutes=1)

    def rows() -> Iterator[dict[str, Any]]:
        for serial in range(1, tickets + 1):
            opened = first + timedelta(seconds=randomness.uniform(0, 20 * 86400))
            instance_id, department_id, contract_id, line_no = randomness.choice(placed)
            priority, state = randomness.choice(PRIORITIES), randomness.choice(STATES)
            response_minutes, resolution_minutes = TARGETS[priority]
            # Wall-clock stand-ins for the due times (their arithmetic is not what the sweep measures).
            response_due = opened + timedelta(minutes=response_minutes)
            resolution_due = opened + timedelta(minutes=resolution_minutes * 5)
            escalation_due = opened + timedelta(minutes=resolution_minutes * 15 // 4)
            running = state in ("new", "acknowledged", "in_progress")
            # Resolved within the last five days: a running sweep has closed the older ones already.
            resolved = max(opened, now - timedelta(days=5)) + timedelta(hours=2) if state == "resolved" else None
            yield {
                "id": uuid7_at(int(opened.timestamp() * 1000)),
                "version": 1,
                "created_at": opened,
                "updated_at": opened,
                "kind": "incident",
                "priority": priority,
                "title": f"压测工单 {serial}",
                "description": "",
                "number": f"T-2026-{serial:06d}",
                "serial": serial,
                "service_instance_id": instance_id,
                "department_id": department_id,
                "contract_id": contract_id,
                "line_no": line_no,
                "status": state,
                "clock": "24x7" if priority in ("P1", "P2") else "business",
                "response_minutes": response_minutes,
                "resolution_minutes": resolution_minutes,
                "response_due_at": response_due,
                "resolution_due_at": resolution_due,
                "escalation_due_at": escalation_due,
                "paused_seconds": 0,
                "paused_since": opened + timedelta(hours=1) if state in ("pending_customer", "resolved") else None,
                "responded_at": None if state == "new" else opened + timedelta(minutes=10),
                "resolved_at": resolved,
                "auto_close_at": resolved + timedelta(days=7) if resolved else None,
                "response_breached_at": response_due if state == "new" and response_due < swept_until else None,
                "resolution_breached_at": resolution_due if running and resolution_due < swept_until else None,
                "escalated_at": escalation_due if running and escalation_due < swept_until else None,
                "pending_question": "",
                "resolution_note": "",
                "reopen_count": 0,
                "reopen_reason": "",
                "satisfaction_comment": "",
            }

    bulk_insert(database.engine, Ticket.__table__, rows())  # type: ignore[attr-defined]
    with database.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT setval('ticket_serial', {tickets})")
            connection.exec_driver_sql("VACUUM ANALYZE ticket")
        else:
            connection.exec_driver_sql("ANALYZE")
    database.dispose()
    print(f"   seeded {tickets:,} open tickets in {time.monotonic() - began:.0f} s", flush=True)
    department_id, department_key = departments[0]
    instance_id = next(i[0] for i in placed if i[1] == department_id)
    return operator_key, department_key, str(instance_id)


def time_sweeps(url: str, now: datetime) -> list[str]:
    """The sweep as the scheduler runs it: a steady minute, then the first after an hour without sweeps."""
    from sqlalchemy import and_, or_, update
    from sqlmodel import col, func, select

    from operations.tickets.jobs import JOBS
    from operations.tickets.models import Ticket, TicketStatus
    from opscenter.db import Database
    from opscenter.identity.actor import Actor
    from opscenter.scheduler import run_job

    database = Database(settings_for(url))
    lines = []
    try:
        for label, at in (("first run in this process", now - timedelta(minutes=1)), ("a steady minute", now)):
            began = time.perf_counter()
            outcome = run_job(database, JOBS[0], system_actor=Actor.of_job, now=at)
            lines.append(f"sweep, {label}: {(time.perf_counter() - began) * 1000:7.1f} ms ({outcome})")
        with database.transaction(write=True) as session:
            # An hour without a sweep (a deploy, a failover): every mark whose due time fell in it is still to make.
            outage = now - timedelta(hours=1)
            for mark, due in (
                (Ticket.response_breached_at, Ticket.response_due_at),
                (Ticket.resolution_breached_at, Ticket.resolution_due_at),
                (Ticket.escalated_at, Ticket.escalation_due_at),
            ):
                session.execute(update(Ticket).where(col(due) >= outage, col(due) < now).values({mark: None}))
            closing = session.exec(select(Ticket.id).where(Ticket.status == TicketStatus.RESOLVED).limit(200)).all()
            session.execute(
                update(Ticket).where(col(Ticket.id).in_(closing)).values(auto_close_at=now - timedelta(minutes=5))
            )
            missed = session.exec(
                select(func.count()).where(
                    or_(
                        *(
                            and_(col(mark).is_(None), col(due) >= outage, col(due) < now)
                            for mark, due in (
                                (Ticket.response_breached_at, Ticket.response_due_at),
                                (Ticket.resolution_breached_at, Ticket.resolution_due_at),
                                (Ticket.escalated_at, Ticket.escalation_due_at),
                            )
                        )
                    )
                )
            ).one()
        began = time.perf_counter()
        outcome = run_job(database, JOBS[0], system_actor=Actor.of_job, now=now)
        lines.append(
            f"sweep, after an hour without sweeps ({missed:,} tickets to mark, 200 to close): "
            f"{(time.perf_counter() - began) * 1000:7.1f} ms ({outcome})"
        )
        began = time.perf_counter()
        outcome = run_job(database, JOBS[0], system_actor=Actor.of_job, now=now + timedelta(minutes=1))
        lines.append(f"sweep, the minute after:  {(time.perf_counter() - began) * 1000:7.1f} ms ({outcome})")
    finally:
        database.dispose()
    return lines


def cursor_near_end(base_url: str, key: str, params: dict[str, Any], *, leave: int = 100) -> str:
    """Walk the list 200 rows a page and return the cursor of the page that leaves ``leave`` rows."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        total = client.get("/api/v1/tickets", params={**params, "limit": 1, "count": "true"}).json()["total"]
        walked, cursor, previous = 0, None, None
        while walked < total - leave:
            page = client.get(
                "/api/v1/tickets", params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            )
            walked += len(page.json()["items"])
            previous, cursor = cursor, page.json()["next_cursor"]
            if cursor is None:
                break
    return str(cursor or previous)


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    operator_key, department_key, instance_id = seed(url, args.tickets, now)
    print(f"\n== {db_name}: the sweep over {args.tickets:,} open tickets (goal: under 1 s)")
    for line in time_sweeps(url, now):
        print(f"   {line}", flush=True)

    operator = {"Authorization": f"Bearer {operator_key}"}
    department = {"Authorization": f"Bearer {department_key}"}
    page = "/api/v1/tickets?limit=50"
    list_figures: list[Figure] = []
    with opscenter_server(url) as server:
        lists = []
        for who, headers, key in (("operations", operator, operator_key), ("department", department, department_key)):
            for order, params in (("newest", {}), ("by due", {"sort": "due"})):
                query = "".join(f"&{name}={value}" for name, value in params.items())
                deep = cursor_near_end(server.base_url, key, params)
                lists.append(Load(f"{who}, {order}, first page", page + query, headers=headers, baseline=HEALTH.name))
                lists.append(
                    Load(f"{who}, {order}, near the end", f"{page}{query}&cursor={deep}", headers=headers,
                         baseline=HEALTH.name)
                )  # fmt: skip
        for connections in (1, args.connections):
            suffix = f" [{connections} conn]"
            for load in [HEALTH, *lists]:
                check(server, load)
                figure = drive(server, load, seconds=args.seconds, connections=connections)
                list_figures.append(
                    replace(figure, name=load.name + suffix, baseline=load.baseline and load.baseline + suffix)
                )
    print_figures(f"{db_name}: a page of 50 tickets of {args.tickets:,} (goal: p99 under 50 ms)", list_figures)

    body = (
        '{"kind": "incident", "priority": "P3", "title": "压测：系统响应缓慢", "description": "bench", '
        f'"service_instance_id": "{instance_id}"}}'
    )
    create = Load(
        "POST /api/v1/tickets (P3, business clock)",
        "/api/v1/tickets",
        method="POST",
        headers={**department, "Content-Type": "application/json", "Idempotency-Key": "bench-{n}"},
        body=body,
        baseline=BARE_INSERT.name,
    )
    creation: list[Figure] = []
    with bare_server(url) as bare:
        check(bare, BARE_INSERT, expect=201)
        creation.append(drive(bare, BARE_INSERT, seconds=args.seconds, connections=args.connections))
    with opscenter_server(url) as server:
        check(server, create, expect=201)
        creation.append(drive(server, create, seconds=args.seconds, connections=args.connections))
    print_figures(
        f"{db_name}: ticket creation, {args.connections} connections "
        "(goals: >= 0.5x bare, p99 <= 100 ms, RSS <= 150 MiB)",
        creation,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    require_tools()
    which = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with databases(which) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
