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

    .venv/bin/python -m bench.tickets [--db sqlite|postgresql|both] [--seconds 5] [--connections 50]
                                      [--tickets 100000] [--pin]

For scale: Request Tracker 5 answers about 12 ticket creations per second over REST on a machine like this.
"""

import argparse
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench import seed
from bench.harness import (
    BARE_INSERT,
    HEALTH,
    Figure,
    Load,
    Timing,
    arguments,
    bare_server,
    check,
    chosen,
    cursor_near_end,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    print_timings,
    require_tools,
    settings_for,
    settle,
)
from contracts.terms import Priority
from operations.tickets import service as tickets_service
from operations.tickets.models import Ticket, TicketCreate, TicketKind
from opscenter.db import Database
from opscenter.identity.actor import Actor

DEPARTMENTS = 10
INSTANCES_PER_DEPARTMENT = 5
# Open states, as an operations floor carries them.
STATES = ["new"] * 2 + ["acknowledged"] * 2 + ["in_progress"] * 4 + ["pending_customer", "resolved"]
PRIORITIES = ["P1", "P2", "P3", "P3", "P4", "P4"]


def seed_tickets(url: str, tickets: int, now: datetime) -> tuple[str, str, str]:
    """Ten departments with five instances each under approved contracts, and ``tickets`` open tickets over
    them, opened during the last 20 days; breaches and escalations already marked as a running sweep would
    have them, up to a minute ago. Returns (operator key, a department key, one of its instance ids).

    One ticket of each priority is opened through ``open_ticket`` (its targets and clock from the contract's
    terms); the rest are copies of those rows in bulk (``bench.seed.copy_rows``), each with its own instance,
    state, opening time and due times, as the sweep would have left them."""
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=DEPARTMENTS)
        service_id = seed.catalog_service(database, people)
        beneficiaries = [d for d in people.department_ids for _ in range(INSTANCES_PER_DEPARTMENT)]
        instances = seed.provisioned(
            database, people, service_id=service_id, departments=beneficiaries, start=date(2026, 1, 1),
            end=date(2026, 12, 31), prefix="BENCH-TICKETS",
        )  # fmt: skip
        placed = [(i.id, i.department_id, i.contract_id, i.line_no) for i in instances]
        templates = _one_of_each_priority(database, people, instances[0].id)
        began = time.monotonic()
        copied = seed.copy_rows(database, Ticket, _copies(templates, placed, tickets - len(templates), now))
    finally:
        database.dispose()
    if url.startswith("postgresql"):
        _restart_serials(url, tickets)
    settle(url, "ticket")
    print(f"   seeded {copied + len(templates):,} open tickets in {time.monotonic() - began:.0f} s", flush=True)
    department_instance = next(i[0] for i in placed if i[1] == people.department_ids[0])
    return people.operator.key, people.departments[0].key, str(department_instance)


def _one_of_each_priority(database: Database, people: seed.Cast, instance_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """A real P1, P2, P3 and P4 incident on the first department's instance: their rows."""
    department = people.actor(people.departments[0])
    made = {}
    with database.transaction(write=True) as session:
        for priority in Priority:
            data = TicketCreate(
                kind=TicketKind.INCIDENT, priority=priority, title="压测：系统响应缓慢", service_instance_id=instance_id
            )
            ticket = tickets_service.open_ticket(session, data, actor=department)
            made[priority.value] = seed.row_of(session, Ticket, ticket.id)
    return made


def _copies(
    templates: dict[str, dict[str, Any]], placed: list[tuple[Any, ...]], count: int, now: datetime
) -> Iterator[dict[str, Any]]:
    randomness = random.Random(10)
    first = now - timedelta(days=20)
    swept_until = now - timedelta(minutes=1)
    serials = max(template["serial"] for template in templates.values())
    for serial in range(serials + 1, serials + count + 1):
        opened = first + timedelta(seconds=randomness.uniform(0, 20 * 86400))
        instance_id, department_id, contract_id, line_no = randomness.choice(placed)
        template = templates[randomness.choice(PRIORITIES)]
        state = randomness.choice(STATES)
        # Wall-clock stand-ins for the due times (their arithmetic is not what the sweep measures).
        response_due = opened + timedelta(minutes=template["response_minutes"])
        resolution_due = opened + timedelta(minutes=template["resolution_minutes"] * 5)
        escalation_due = opened + timedelta(minutes=template["resolution_minutes"] * 15 // 4)
        running = state in ("new", "acknowledged", "in_progress")
        # Resolved within the last five days: a running sweep has closed the older ones already.
        resolved = max(opened, now - timedelta(days=5)) + timedelta(hours=2) if state == "resolved" else None
        yield {
            **template,
            "id": seed.uuid7_at(opened),
            "created_at": opened,
            "updated_at": opened,
            "title": f"压测工单 {serial}",
            "number": f"T-2026-{serial:06d}",
            "serial": serial,
            "service_instance_id": instance_id,
            "department_id": department_id,
            "contract_id": contract_id,
            "line_no": line_no,
            "status": state,
            "response_due_at": response_due,
            "resolution_due_at": resolution_due,
            "escalation_due_at": escalation_due,
            "paused_since": opened + timedelta(hours=1) if state in ("pending_customer", "resolved") else None,
            "responded_at": None if state == "new" else opened + timedelta(minutes=10),
            "resolved_at": resolved,
            "auto_close_at": resolved + timedelta(days=7) if resolved else None,
            "response_breached_at": response_due if state == "new" and response_due < swept_until else None,
            "resolution_breached_at": resolution_due if running and resolution_due < swept_until else None,
            "escalated_at": escalation_due if running and escalation_due < swept_until else None,
        }


def _restart_serials(url: str, tickets: int) -> None:
    """The ticket number sequence past the copies, as if they had been opened one by one."""
    database = Database(settings_for(url))
    try:
        with database.transaction(write=True) as session:
            session.connection().exec_driver_sql(f"SELECT setval('ticket_serial', {tickets + 1})")
    finally:
        database.dispose()


def time_sweeps(url: str, now: datetime) -> list[Timing]:
    """The sweep as the scheduler runs it: a steady minute, then the first after an hour without sweeps."""
    from sqlalchemy import and_, or_, update
    from sqlmodel import col, func, select

    from operations.tickets.jobs import JOBS
    from operations.tickets.models import TicketStatus
    from opscenter.scheduler import run_job

    database = Database(settings_for(url))
    goal = Timing("goal", 1.0)
    lines = [goal]
    try:
        for label, at in (("first run in this process", now - timedelta(minutes=1)), ("a steady minute", now)):
            began = time.perf_counter()
            outcome = run_job(database, JOBS[0], system_actor=Actor.of_job, now=at)
            lines.append(Timing(f"sweep, {label}", time.perf_counter() - began, baseline="goal", note=str(outcome)))
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
            Timing(
                "sweep, after an hour without sweeps",
                time.perf_counter() - began,
                baseline="goal",
                note=f"{missed:,} tickets to mark, 200 to close ({outcome})",
            )
        )
        began = time.perf_counter()
        outcome = run_job(database, JOBS[0], system_actor=Actor.of_job, now=now + timedelta(minutes=1))
        lines.append(Timing("sweep, the minute after", time.perf_counter() - began, baseline="goal", note=str(outcome)))
    finally:
        database.dispose()
    return lines


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    operator_key, department_key, instance_id = seed_tickets(url, args.tickets, now)
    print_timings(f"{db_name}: the sweep over {args.tickets:,} open tickets (goal: under 1 s)", time_sweeps(url, now))

    load = options(args)
    operator = {"Authorization": f"Bearer {operator_key}"}
    department = {"Authorization": f"Bearer {department_key}"}
    page = "/api/v1/tickets?limit=50"
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
    list_figures: list[Figure] = []
    creation: list[Figure] = []
    with bare_server(url, pin=args.pin) as bare:
        check(bare, BARE_INSERT, expect=201)
        creation.append(drive(bare, BARE_INSERT, load))
    with opscenter_server(url, pin=args.pin) as server:
        lists = []
        for who, headers, key in (("operations", operator, operator_key), ("department", department, department_key)):
            for order, params in (("newest", {}), ("by due", {"sort": "due"})):
                query = "".join(f"&{name}={value}" for name, value in params.items())
                deep = cursor_near_end(server, key, "/api/v1/tickets", params)
                lists.append(Load(f"{who}, {order}, first page", page + query, headers=headers, baseline=HEALTH.name))
                lists.append(
                    Load(f"{who}, {order}, near the end", f"{page}{query}&cursor={deep}", headers=headers,
                         baseline=HEALTH.name)
                )  # fmt: skip
        for connections in (1, load.connections):
            suffix = f" [{connections} conn]"
            for request in [HEALTH, *lists]:
                check(server, request)
                figure = drive(server, request, load, connections=connections)
                list_figures.append(
                    replace(figure, name=request.name + suffix, baseline=request.baseline and request.baseline + suffix)
                )
        check(server, create, expect=201)
        creation.append(drive(server, create, load))
    print_figures(
        f"{db_name}: a page of 50 tickets of {args.tickets:,} (goal: p99 under 50 ms), {each(load)}", list_figures
    )
    print_figures(
        f"{db_name}: ticket creation, {load.connections} connections "
        "(goals: >= 0.5x bare, p99 <= 100 ms, RSS <= 150 MiB)",
        creation,
    )


def main() -> None:
    parser = arguments(__doc__, load=True, seconds=5)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    with databases(chosen(args)) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
