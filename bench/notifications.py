"""Notifications: 10,000 events through the outbox to a local webhook receiver (goal: all delivered in under 30 s),
and what emitting an event adds to an audited write (goal: at most 1.10× the same write without events).

On a SQLite file (WAL) and a scratch PostgreSQL database, each with a bureau, the operations center and one
department (one user each) whose system subscribes to every event by webhook, at a receiver this process starts
on 127.0.0.1 (HTTP/1.1, keep-alive, answers 200):

- delivery: ``--events`` events written through ``outbox.emit`` (1,000 per transaction, as workflow steps write
  them), then the worker's steps as the dispatch job runs them: fan-out (a notification per person, a delivery
  per subscription) and delivery (claim a batch, send it signed, 8 at a time, log each attempt). Timed from the
  first fan-out to the last delivery logged; every event must have reached the receiver once.
- write: ``--writes`` cycles of a purchase request submitted by the department and returned by the bureau (two
  flows, each its own write transaction, audited, each emitting one event), with emission switched off
  (``OPSCENTER_NOTIFICATIONS_EMIT=false``: the write as it was before events existed) and on, in alternating
  blocks so the machine's noise falls on both.

    .venv/bin/python -m bench.notifications [--events 10000] [--writes 400] [--db sqlite|postgresql|both]

The machine is shared: run it twice and read both.
"""

import json
import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import seed
from bench.harness import Timing, arguments, chosen, databases, print_timings, settings_for
from contracts.purchasing import flows as purchasing_flows
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseItemIn, PurchaseRequestIn
from opscenter.db import Database
from opscenter.notifications import outbox, secrets, subscriptions
from opscenter.notifications.delivery_models import SubscriptionIn
from opscenter.notifications.jobs import deliver_due, fan_out_pending, http_client
from opscenter.notifications.models import NotificationKind
from opscenter.settings import get_settings
from opscenter.timekeeping import utcnow
from tests import loopback

DELIVERY_GOAL_SECONDS = 30.0
WRITE_GOAL = 1.10
EMITTED_PER_TRANSACTION = 1000
BLOCKS = 8


def _serve(port: Any, ready: Any) -> None:
    """The receiver's process: answers 200 to every POST, and GET /count with how many it got (and distinct ids)."""
    got: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            got.append(self.headers["webhook-id"])
            self._answer(b"")

        def do_GET(self) -> None:
            self._answer(json.dumps({"requests": len(got), "events": len(set(got))}).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


@contextmanager
def receiver() -> Iterator[str]:
    """A department's system, in a process of its own (as it would be: it shares no interpreter lock with us)."""
    port, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(port, ready), daemon=True)
    process.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port.value}"
    finally:
        process.terminate()
        process.join(5)


def lab_settings(url: str) -> Any:
    return settings_for(
        url,
        notifications_secret_key=secrets.new_key(),
        webhook_allow_http=True,
        webhook_allow_private=True,  # the receiver is on 127.0.0.1, started here
        delivery_backoff_seconds=0.0,
        delivery_timeout_seconds=5.0,
    )


def deliver_events(url: str, events: int) -> list[Timing]:
    settings = lab_settings(url)
    database = Database(settings)
    try:
        people = seed.cast(database)
        department = people.departments[0]
        with receiver() as address:
            with database.transaction(write=True) as session:
                subscriptions.subscribe(
                    session, SubscriptionIn(url=f"{address}/events"), actor=people.actor(department), settings=settings
                )
            actor = people.actor(people.operator)
            for start in range(0, events, EMITTED_PER_TRANSACTION):
                with database.transaction(write=True) as session:
                    for n in range(start, min(events, start + EMITTED_PER_TRANSACTION)):
                        outbox.emit(
                            session,
                            kind=NotificationKind.TICKET_ACKNOWLEDGED,
                            subject=outbox.Subject("ticket", str(uuid.uuid4())),
                            title=f"工单已响应：T-2026-{n:06d}",
                            department_ids=[department.organization_id],
                            payload={"number": f"T-2026-{n:06d}", "priority": "P2"},
                            actor=actor,
                        )
            started = time.perf_counter()
            fan_out_pending(database, utcnow())
            fanned = time.perf_counter() - started
            with http_client(settings) as client:
                deliver_due(database, settings, client, worker="bench", max_batches=10_000)
            took = time.perf_counter() - started
            got = loopback.get(f"{address}/count").json()
            if got["events"] != events:
                raise SystemExit(f"{got['events']} of {events} events reached the receiver")
    finally:
        database.dispose()
    return [
        Timing("goal: delivered within", DELIVERY_GOAL_SECONDS, events, "events"),
        Timing("fan-out (notifications + deliveries)", fanned, events, "events"),
        Timing(
            "outbox → webhook receiver, all delivered",
            took,
            events,
            "events",
            baseline="goal: delivered within",
            note=f"{got['requests']} requests for {got['events']} events",
        ),
    ]


def write_cost(url: str, writes: int) -> list[Timing]:
    settings = lab_settings(url)
    database = Database(settings)
    try:
        people = seed.cast(database)
        service_id = seed.catalog_service(database, people)
        department, bureau = people.actor(people.departments[0]), people.actor(people.approver)
        item = PurchaseItemIn(
            service_id=service_id,
            quantity=2,
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            justification="电子健康档案系统上云",
        )
        with database.transaction(write=True) as session:
            request = purchasing.create_request(
                session, PurchaseRequestIn(title="基准测试申请", items=[item]), actor=department
            )
            request_id, version = request.id, request.version

        def cycles(count: int) -> float:
            nonlocal version
            started = time.perf_counter()
            for _ in range(count):
                with database.transaction(write=True) as session:
                    version = purchasing_flows.submit(
                        session, request_id, actor=department, expected_version=version
                    ).version
                with database.transaction(write=True) as session:
                    version = purchasing_flows.send_back(
                        session, request_id, actor=bureau, expected_version=version, comment="请补充"
                    ).version
            return time.perf_counter() - started

        cycles(max(2, writes // 20))  # warm-up
        spent = {False: 0.0, True: 0.0}
        per_block = max(1, writes // BLOCKS)
        for _ in range(BLOCKS):
            for emitting in (False, True):
                with emission(emitting):
                    spent[emitting] += cycles(per_block)
    finally:
        database.dispose()
    done = per_block * BLOCKS * 2  # two audited writes per cycle
    return [
        Timing("audited write, no events (as before the outbox)", spent[False], done, "writes"),
        Timing(
            "audited write that emits its event",
            spent[True],
            done,
            "writes",
            baseline="audited write, no events (as before the outbox)",
            note=f"goal ≤ {WRITE_GOAL:.2f}x",
        ),
    ]


@contextmanager
def emission(on: bool) -> Iterator[None]:
    os.environ["OPSCENTER_NOTIFICATIONS_EMIT"] = "true" if on else "false"
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.pop("OPSCENTER_NOTIFICATIONS_EMIT", None)
        get_settings.cache_clear()


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--writes", type=int, default=400, help="submit+return cycles per setting")
    args = parser.parse_args()
    for name in chosen(args):
        with databases([name]) as urls:
            url = urls[name]
            timings = deliver_events(url, args.events)
        with databases([name]) as urls:
            timings += write_cost(urls[name], args.writes)
        print_timings(f"notifications on {name}: {args.events:,} events, {args.writes} write cycles", timings)


if __name__ == "__main__":
    main()
