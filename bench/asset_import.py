"""Importing a 10,000-row handover inventory (CSV from Excel) with full validation: goal under 5 s.

Builds its own databases (a SQLite file in WAL mode and a scratch PostgreSQL database) and a 10,000-row
file (UTF-8 with BOM, Chinese headers, every kind, spec JSON, amounts, dates), then measures on each:

- baseline: ``csv.reader`` alone over the decoded file (what reading costs without any checking);
- parse: decoding, header matching and validating every row (``columns.parse_file``), no database;
- import: ``handover.service.import_items`` in one write transaction, committed: parse, serial numbers
  checked against the register and the batch, 10,000 items inserted, the batch audited;
- HTTP: the same upload through a real server (``POST /api/v1/handovers/{id}/items/import``);
- for context, the steps after it on the same 10,000 items: submit (10,000 assets registered, each with an
  audit event and a history row), inspect all, and the three signatures (the third takes all 10,000 over).

Prints seconds and rows/s for each, and each step's time as a multiple of ``csv.reader``'s. CPU is shared on small
machines: run it twice and read both.

    .venv/bin/python -m bench.asset_import [--rows 10000] [--db sqlite|postgresql|both]
"""

import csv
import io
import json
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from bench.harness import Timing, arguments, chosen, databases, opscenter_server, print_timings, settings_for
from operations.assets.handover import flows
from operations.assets.handover import service as handover
from operations.assets.handover.models import HandoverBatchCreate, InspectionIn
from operations.assets.register import columns
from operations.assets.register.models import AssetKind
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from opscenter.sheets import Limits
from tests import loopback
from tests.factories import Identity, identity

T = TypeVar("T")
GOAL_SECONDS = 5.0
BASELINE = "baseline: csv.reader alone"


def inventory(rows: int, prefix: str) -> bytes:
    kinds = [kind.label for kind in AssetKind]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns.headers(columns.DESCRIPTION))
    for n in range(rows):
        spec = {"cpu": 8 << (n % 4), "memory_gb": 32 << (n % 3), "备注": "双路电源"} if n % 5 else {}
        writer.writerow(
            [
                kinds[n % len(kinds)],
                f"政务云业务服务器-{n:05d}",
                f"{prefix}-{n:06d}",
                "华为 FusionServer 2288H V6",
                f"市政务云机房{'ABCD'[n % 4]}区-{n % 40:02d}机柜",
                json.dumps(spec, ensure_ascii=False) if spec else "",
                f"{(n * 7919) % 900000 + 1000}.{n % 100:02d}",
                date(2015 + n % 10, 1 + n % 12, 1 + n % 28).isoformat(),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def timed(action: Callable[[], T]) -> tuple[float, float, T]:
    """Wall seconds and CPU seconds (this process's: a shared CPU inflates wall time much more; the database
    server's own CPU is not in it) of ``action``, and what it returned."""
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - start, time.process_time() - cpu, result


def actor_of(who: Identity, kind: OrgKind) -> Actor:
    return Actor(who.user_id, who.user_name, who.organization_id, kind, who.role, "bench")


def new_batch(database: Database, department: Actor, title: str) -> tuple[uuid.UUID, int]:
    with database.transaction(write=True) as session:
        batch = handover.create_batch(
            session, HandoverBatchCreate(title=title, planned_date=date(2027, 1, 15)), actor=department
        )
        return batch.id, batch.version


def step(database: Database, action: Callable[[Any], Any]) -> tuple[float, float]:
    """Wall and CPU seconds for one write transaction, commit included."""

    def run() -> None:
        with database.transaction(write=True) as session:
            action(session)

    seconds, cpu, _ = timed(run)
    return seconds, cpu


def timing(what: str, seconds: float, cpu: float, rows: int) -> Timing:
    return Timing(what, seconds, rows, baseline=BASELINE if what != BASELINE else None, note=f"cpu {cpu:6.2f} s")


def bench(name: str, url: str, rows: int) -> None:
    settings = settings_for(url)
    database = Database(settings)
    people = {
        role: identity(database, user_name=f"bench.{role.value}", role=role, org_name=org, org_kind=kind)
        for role, org, kind in (
            (Role.DEPARTMENT, "市卫生健康委员会", OrgKind.DEPARTMENT),
            (Role.OPERATOR, "数字政府运营中心", OrgKind.OPERATOR),
            (Role.BUREAU, "政务服务数据管理局", OrgKind.BUREAU),
        )
    }
    kinds = {Role.DEPARTMENT: OrgKind.DEPARTMENT, Role.OPERATOR: OrgKind.OPERATOR, Role.BUREAU: OrgKind.BUREAU}
    actors = {role: actor_of(who, kinds[role]) for role, who in people.items()}
    department = actors[Role.DEPARTMENT]
    timings = []

    content = inventory(rows, "SN")
    seconds, cpu, _ = timed(lambda: sum(1 for _ in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))))
    timings.append(timing(BASELINE, seconds, cpu, rows))
    seconds, cpu, parsed = timed(lambda: columns.parse_file(content, limits=Limits(rows=rows)))
    if parsed.errors or len(parsed.rows) != rows:
        raise RuntimeError(f"the inventory did not parse: {list(parsed.errors)[:3]}")
    timings.append(timing("parse + validate every row (no database)", seconds, cpu, rows))

    batch_id, version = new_batch(database, department, "基准测试：服务层导入")
    imported, cpu = step(
        database,
        lambda session: handover.import_items(
            session, batch_id, content, actor=department, expected_version=version, limits=Limits(rows=rows)
        ),
    )
    timings.append(timing("import (validate, check serials, insert, commit)", imported, cpu, rows))

    other, other_version = new_batch(database, department, "基准测试：HTTP 上传")
    with opscenter_server(url) as server:
        headers = {
            "Authorization": f"Bearer {people[Role.DEPARTMENT].key}",
            "If-Match": f'"{other_version}"',
            "Content-Type": "text/csv",
        }
        upload = inventory(rows, "HTTP")
        url_path = f"{server.base_url}/api/v1/handovers/{other}/items/import"
        seconds, cpu, response = timed(lambda: loopback.post(url_path, content=upload, headers=headers, timeout=120))
        if response.status_code != 200:
            raise RuntimeError(f"the upload failed: {response.status_code} {response.text[:500]}")
    timings.append(timing(f"HTTP upload ({len(upload) / 1e6:.1f} MB)", seconds, cpu, rows))

    current = {"version": version + 1}

    def act(action: Callable[[Any, int], Any]) -> Callable[[Any], None]:
        def run(session: Any) -> None:
            batch = action(session, current["version"])
            session.flush()
            current["version"] = batch.version

        return run

    submit = act(lambda s, v: flows.submit(s, batch_id, actor=department, expected_version=v))
    timings.append(timing("submit: register every asset (+ event, history)", *step(database, submit), rows))
    everything = InspectionIn(accept_remaining=True)
    inspect = act(lambda s, v: flows.inspect(s, batch_id, everything, actor=actors[Role.OPERATOR], expected_version=v))
    timings.append(timing("inspect: accept every item", *step(database, inspect), rows))
    for role in (Role.DEPARTMENT, Role.BUREAU):
        signer = actors[role]
        step(database, act(lambda s, v: flows.sign(s, batch_id, actor=signer, expected_version=v)))  # noqa: B023
    third = act(lambda s, v: flows.sign(s, batch_id, actor=actors[Role.OPERATOR], expected_version=v))
    timings.append(timing("third signature: take every asset over", *step(database, third), rows))
    database.dispose()
    verdict = "within" if imported < GOAL_SECONDS else "OVER"
    print_timings(
        f"{name}: a {rows:,}-row handover inventory (import goal {GOAL_SECONDS:.0f} s: {verdict}, "
        f"{imported / GOAL_SECONDS:.0%} of it)",
        timings,
    )


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    print(f"{args.rows} rows, UTF-8 with BOM, Chinese headers; the machine's CPU may be shared")
    with databases(chosen(args)) as urls:
        for name, url in urls.items():
            bench(name, url, args.rows)


if __name__ == "__main__":
    main()
