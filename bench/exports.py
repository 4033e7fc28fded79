"""Exports at scale: 100,000 tickets and the audit trail, streamed by the real ``opscenter serve``.

For SQLite (WAL file) and PostgreSQL (a scratch database), in one run:

- tickets:  ``GET /api/v1/tickets/export?format=csv`` (and ``xlsx``) as the operations center over 100,000 tickets
            (``bench.tickets.seed_tickets``: one real ticket per priority through the service, the rest copies of
            their rows in bulk).
- audit:    ``GET /api/v1/audit-events/export?format=csv`` (and ``xlsx``) as the auditor over the trail: the
            events the seeding wrote through the services, and copies of one of them in bulk up to ``--events``.

Each export is downloaded whole and timed, beside the baseline: the same rows read by the same query in this
process (``Ticket``/``AuditEvent`` by id, newest first, 1,000 at a time) and written by ``csv.writer`` to a file.
Goals: the CSV export at least 0.5x the baseline's rows per second (at most 2.00x its time), and the server's peak
RSS during the export (VmHWM, reset before through ``/proc/PID/clear_refs``) at most 50 MiB above its RSS before.
The XLSX figures are printed beside the same baseline for scale: a workbook is zipped XML, not text.

    .venv/bin/python -m bench.exports [--db sqlite|postgresql|both] [--tickets 100000] [--events 100000] [--pin]
"""

import argparse
import csv
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bench import seed
from bench.harness import Server, Timing, arguments, chosen, databases, opscenter_server, print_timings, settings_for
from bench.tickets import seed_tickets
from operations.tickets.models import Ticket
from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from opscenter.identity.models import OrgKind, Role
from tests import loopback
from tests.factories import BUREAU_ORG, identity

RSS_GOAL_MIB = 50
BATCH = 1000


def _status(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in KiB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _reset_peak(server: Server) -> int:
    """Reset each server process's peak RSS to its RSS now (``clear_refs`` 5); returns the RSS now, KiB."""
    total = 0
    for pid in server.pids():
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        total += _status(pid, "VmRSS")
    return total


def _peak(server: Server) -> int:
    return sum(_status(pid, "VmHWM") for pid in server.pids())


def download(server: Server, key: str, path: str, params: dict[str, str]) -> tuple[float, int, int, float]:
    """Seconds to download an export whole, its bytes, its lines (CSV rows + 1) and the server's peak RSS growth
    meanwhile (MiB)."""
    before = _reset_peak(server)
    began = time.perf_counter()
    size = lines = 0
    headers = {"Authorization": f"Bearer {key}"}
    with (
        loopback.client(base_url=server.base_url, timeout=600) as client,
        client.stream("GET", path, params=params, headers=headers) as response,
    ):
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.read()[:500]!r}")
        for chunk in response.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    return seconds, size, lines, (_peak(server) - before) / 1024


def baseline(url: str, model: Any, columns: list[str]) -> tuple[float, int]:
    """The same rows, newest first, read 1,000 at a time by id and written by ``csv.writer`` alone to a file."""
    database = Database(settings_for(url))
    rows = 0
    began = time.perf_counter()
    try:
        with tempfile.TemporaryFile("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            last = None
            while True:
                with database.transaction(write=False) as session:
                    query = select(model).order_by(col(model.id).desc()).limit(BATCH)
                    if last is not None:
                        query = query.where(col(model.id) < last)
                    batch = list(session.exec(query).all())
                    writer.writerows([getattr(row, name) for name in columns] for row in batch)
                rows += len(batch)
                if len(batch) < BATCH:
                    break
                last = batch[-1].id
    finally:
        database.dispose()
    return time.perf_counter() - began, rows


TICKET_COLUMNS = [
    "number", "title", "kind", "priority", "status", "department_id", "service_instance_id", "assignee_id", "clock",
    "created_at", "response_due_at", "responded_at", "response_breached_at", "resolution_due_at", "resolved_at",
    "resolution_breached_at", "escalated_at", "closed_at", "reopen_count", "satisfaction_score",
]  # fmt: skip
EVENT_COLUMNS = [
    "occurred_at", "actor_name", "actor_organization_id", "actor_role", "action", "object_type", "object_id",
    "changes", "request_id", "id",
]  # fmt: skip


def seed_events(url: str, events: int) -> str:
    """Copies of one real audit event up to ``events`` in all, spread over the last 30 days; returns an auditor's
    key (made through the house, with its own events)."""
    database = Database(settings_for(url))
    try:
        auditor = identity(
            database, user_name="bench.auditor", role=Role.AUDITOR, org_name=BUREAU_ORG, org_kind=OrgKind.BUREAU
        )
        with database.transaction(write=False) as session:
            template_id = session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id))).first()
            count = len(session.exec(select(AuditEvent.id)).all())
            assert template_id is not None, "seeding writes audit events"
            template = seed.row_of(session, AuditEvent, template_id)
        now = datetime.now(UTC)
        copies = max(events - count, 0)

        def rows() -> Iterator[dict[str, Any]]:
            for n in range(copies):
                at = now - timedelta(days=30) + timedelta(seconds=n * 25.92e5 / max(copies, 1))
                yield {**template, "id": seed.uuid7_at(at), "occurred_at": at, "request_id": f"bench-{n}"}

        seed.copy_rows(database, AuditEvent, rows())
    finally:
        database.dispose()
    return auditor.key


def run(db_name: str, url: str, args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    operator_key, _, _ = seed_tickets(url, args.tickets, now)
    auditor_key = seed_events(url, args.events)
    ticket_base = baseline(url, Ticket, TICKET_COLUMNS)
    event_base = baseline(url, AuditEvent, EVENT_COLUMNS)
    timings: list[Timing] = []
    with opscenter_server(url, pin=args.pin) as server:
        for key, path, (base_seconds, base_rows), what in (
            (operator_key, "/api/v1/tickets/export", ticket_base, "tickets"),
            (auditor_key, "/api/v1/audit-events/export", event_base, "audit events"),
        ):
            # warm: the first request of a route and openpyxl's import are not what an export costs
            empty = {"since": "2999-01-01T00:00:00Z"} if "audit" in path else {"status": "closed"}
            for file_format in ("csv", "xlsx"):
                download(server, key, path, {"format": file_format, **empty})
            base_name = f"{what}: csv.writer alone, same query"
            timings.append(Timing(base_name, base_seconds, base_rows))
            for file_format in ("csv", "xlsx"):
                seconds, size, lines, growth = download(server, key, path, {"format": file_format})
                rows = lines - 1 if file_format == "csv" else base_rows
                goal = f"peak RSS +{growth:.1f} MiB (goal <= {RSS_GOAL_MIB}), {size / 2**20:.1f} MiB"
                name = f"{what}: GET export?format={file_format}"
                timings.append(Timing(name, seconds, rows, baseline=base_name, note=goal))
    print_timings(
        f"{db_name}: {args.tickets:,} tickets and {args.events:,} audit events exported "
        "(goals: CSV at most 2.00x the time of csv.writer alone, peak RSS growth <= 50 MiB)",
        timings,
    )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with databases(chosen(args)) as urls:
        for db_name, url in urls.items():
            run(db_name, url, args)


if __name__ == "__main__":
    main()
