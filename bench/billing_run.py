"""A billing run over 10,000 contract lines with measurements, tickets and ratings in place: goal under 10 s.

Builds its own databases (a SQLite file in WAL mode and a scratch PostgreSQL database) and, with bulk inserts,
1,000 approved contracts of 10 lines each for October 2026 (a tenth of the lines start mid-month, every 20th
contract was amended mid-month), a service instance per line with a month of daily SLA measurements, ratings
for most instances and resolution breaches on some. Then, on each database:

- baseline: writing 10,000 rows of the statement line's width with executemany in one transaction, and
  nothing else (the floor any run pays for its output);
- run: ``billing.statements.runs.run_period`` as the job runs it (a read transaction for the inputs, then a
  write transaction per 100 contracts), with where the time goes (each input source, computing the lines,
  writing, auditing) and how many SQL statements it sent;
- again: the same run a second time (every draft refreshed, nothing doubled);
- for scale: the statements a run sends at a tenth of the size, to show that they do not grow with the lines.

    .venv/bin/python bench/billing_run.py [--lines 10000] [--db sqlite|postgresql|both]

The machine is shared: run it twice and read both.
"""

import argparse
import itertools
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Uuid, event, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import SQLModel  # noqa: E402

from bench.harness import bulk_insert, databases, settings_for, uuid7_at  # noqa: E402
from billing.statements.models import Statement, StatementLine  # noqa: E402
from billing.statements.runs import run_period  # noqa: E402
from opscenter.auth.actor import Actor  # noqa: E402
from opscenter.clock import Period  # noqa: E402
from opscenter.db import Database, core_table  # noqa: E402
from opscenter.plugin import load_all_models  # noqa: E402

GOAL_SECONDS = 10.0
SERIALS = itertools.count(1)  # ticket serials, unique across seeds
PERIOD = Period(2026, 10)
LINES_PER_CONTRACT = 10
NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
ACTOR = Actor.system("bench:billing", "bench")


def _stamp(values: dict[str, Any], millis: int) -> dict[str, Any]:
    return {"id": uuid7_at(millis), "version": 1, "created_at": NOW, "updated_at": NOW, **values}


def _table(name: str) -> Any:
    return SQLModel.metadata.tables[name]


def seed(engine: Engine, lines: int, tag: str) -> dict[str, int]:
    """The contracts, lines, instances, ratings (and, with their domains, measurements and tickets)."""
    millis = 1_790_000_000_000
    bureau = _stamp({"name": f"政务服务数据管理局{tag}", "kind": "bureau"}, millis)
    operator = _stamp({"name": f"数字政府运营中心{tag}", "kind": "operator"}, millis + 1)
    departments = [_stamp({"name": f"市直部门{tag}-{n:02d}", "kind": "department"}, millis + 2 + n) for n in range(10)]
    bulk_insert(engine, _table("organization"), [bureau, operator, *departments])
    service = _stamp(
        {"code": f"ECS-{tag}", "name": "云服务器（4核8G）", "category": "compute", "unit": "台/月",
         "list_price_fen": 150_000},
        millis,
    )  # fmt: skip
    bulk_insert(engine, _table("catalog_service"), [service])
    contracts, versions, contract_lines, instances, ratings = [], [], [], [], []
    for c in range(lines // LINES_PER_CONTRACT):
        amended = c % 20 == 0
        contract = _stamp(
            {"number": f"BENCH-{tag}-{c:05d}", "title": "政务云资源服务合同", "procurement_method": "public_tender",
             "signed_date": date(2025, 12, 15), "start_date": date(2026, 1, 1), "supplier_id": operator["id"],
             "status": "approved", "current_version": 2 if amended else 1, "termination_reason": ""},
            millis + 100 + c,
        )  # fmt: skip
        contracts.append(contract)
        numbers = (1, 2) if amended else (1,)
        for number in numbers:
            version = _stamp(
                {"contract_id": contract["id"], "number": number, "status": "approved",
                 "effective_date": date(2026, 1, 1) if number == 1 else date(2026, 10, 16),
                 "end_date": date(2026, 12, 31), "ceiling_fen": 10_000_000_000, "terms": {}, "note": ""},
                millis + 100 + c,
            )  # fmt: skip
            versions.append(version)
            for line_no in range(1, LINES_PER_CONTRACT + 1):
                starts = date(2026, 10, 10) if line_no == 1 and c % 10 == 0 else date(2026, 1, 1)
                contract_lines.append(
                    {"id": uuid.uuid4(), "contract_version_id": version["id"], "line_no": line_no,
                     "service_id": service["id"], "department_id": departments[(c + line_no) % 10]["id"],
                     "quantity": 20 + (5 if number == 2 else 0), "unit_price_fen": 150_000,
                     "start_date": starts, "end_date": date(2026, 12, 31), "total_value_fen": 0}
                )  # fmt: skip
        for line_no in range(1, LINES_PER_CONTRACT + 1):
            department = departments[(c + line_no) % 10]
            instance = _stamp(
                {"name": f"实例 {c}-{line_no}", "label_matchers": {"instance": f"https://s{c}-{line_no}.gov.cn"},
                 "contract_id": contract["id"], "line_no": line_no, "service_id": service["id"],
                 "department_id": department["id"], "status": "active"},
                millis + 100 + c,
            )  # fmt: skip
            instances.append(instance)
            if (c + line_no) % 5:  # four in five rated
                ratings.append(
                    _stamp(
                        {"department_id": department["id"], "service_instance_id": instance["id"],
                         "contract_id": contract["id"], "period": str(PERIOD), "score": 70 + (c * line_no) % 31},
                        millis + 100 + c,
                    )
                )  # fmt: skip
    for name, rows in (
        ("contract", contracts),
        ("contract_version", versions),
        ("contract_line", contract_lines),
        ("service_instance", instances),
        ("rating", ratings),
    ):
        bulk_insert(engine, _table(name), rows)
    extra = seed_measurements_and_tickets(engine, instances, tag)
    return {"contracts": len(contracts), "lines": len(instances), "ratings": len(ratings), **extra}


def seed_measurements_and_tickets(engine: Engine, instances: list[dict[str, Any]], tag: str) -> dict[str, int]:
    """A month of daily SLA measurements per instance (one in seven had an outage), and a P1 ticket past its
    resolution deadline on one line in twenty."""
    pulled = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    promql = ['sum(sum_over_time(probe_success{instance="…"}[86399999ms] @ …))']

    def measurements() -> Iterator[dict[str, Any]]:
        for n, instance in enumerate(instances):
            for day in range(1, PERIOD.days + 1):
                down = 190 if n % 7 == 0 and day == 12 else 0
                yield {"id": uuid.uuid4(), "service_instance_id": instance["id"], "day": date(2026, 10, day),
                       "up_samples": 1440 - down, "samples": 1440, "expected_samples": 1440,
                       "maintenance_seconds": 0, "pulled_at": pulled, "promql": promql,
                       "department_id": instance["department_id"], "contract_id": instance["contract_id"],
                       "line_no": instance["line_no"]}  # fmt: skip

    due = datetime(2026, 10, 15, 6, 0, tzinfo=UTC)
    opened = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
    tickets = [
        _stamp(
            {"kind": "incident", "priority": "P1", "title": "系统无法登录", "description": "",
             "number": f"GD{tag}-{n:06d}", "serial": next(SERIALS), "service_instance_id": instance["id"],
             "department_id": instance["department_id"], "contract_id": instance["contract_id"],
             "line_no": instance["line_no"], "status": "in_progress", "clock": "24x7", "response_minutes": 15,
             "resolution_minutes": 240, "response_due_at": opened, "resolution_due_at": due,
             "escalation_due_at": due, "paused_seconds": 0, "resolution_breached_at": due, "pending_question": "",
             "resolution_note": "", "reopen_count": 0, "reopen_reason": "", "satisfaction_comment": ""},
            1_790_000_000_000 + n,
        )
        for n, instance in enumerate(instances)
        if n % 20 == 0
    ]  # fmt: skip
    return {
        "measurements": bulk_insert(engine, _table("sla_measurement"), measurements(), batch=20_000),
        "breached tickets": bulk_insert(engine, _table("ticket"), tickets),
    }


@contextmanager
def counting(engine: Engine) -> Iterator[list[int]]:
    """How many SQL statements (an executemany counts once) the block sends."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def timed_run(db: Database) -> tuple[float, dict[str, float], int, Any]:
    with counting(db.engine) as sent:
        start = time.perf_counter()
        result = run_period(db, period=PERIOD, actor=ACTOR, now=NOW)
        seconds = time.perf_counter() - start
    return seconds, result.seconds, sent[0], result.run


SCRATCH = MetaData()
BENCH_LINE = Table(
    "bench_line", SCRATCH, Column("id", Uuid, primary_key=True), Column("n", Integer), Column("figures", String(2000))
)


def baseline(db: Database, lines: int) -> float:
    """As many rows as the run writes lines, about as wide, one executemany, one transaction: the floor."""
    SCRATCH.create_all(db.engine)
    start = time.perf_counter()
    with db.transaction(write=True) as session:
        rows = [{"id": uuid.uuid4(), "n": n, "figures": "x" * 600} for n in range(lines)]
        session.execute(insert(BENCH_LINE), rows)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    load_all_models()
    which = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with databases(which) as urls:
        for name, url in urls.items():
            report(name, url, args.lines)


def report(name: str, url: str, lines: int) -> None:
    db = Database(settings_for(url))
    try:
        # a tenth first, for the count of statements at that size; then the rest, and the run over them all
        first = lines // 10
        seed(db.engine, first, "a")
        small_run = timed_run(db)
        with db.transaction(write=True) as session:  # the big run starts from no statement
            session.execute(core_table(StatementLine).delete())
            session.execute(core_table(Statement).delete())
        seeded = seed(db.engine, lines - first, "b")
        floor = baseline(db, lines)
        seconds, phases, sent, run = timed_run(db)
        again_seconds, _, again_sent, again = timed_run(db)
    finally:
        db.dispose()
    total_lines = run.lines
    print(f"\n== billing run on {name}: {run.contracts} contracts, {total_lines} lines, {PERIOD} ==")
    print(f"seeded (the last {100 - 10}%): {seeded}")
    print(f"baseline  insert {total_lines} rows (executemany, 1 transaction)  {floor:6.2f} s")
    verdict = "within" if seconds < GOAL_SECONDS else "OVER"
    print(
        f"run       {seconds:6.2f} s  {total_lines / seconds:8.0f} lines/s  {sent} SQL statements  "
        f"ratio to baseline {seconds / floor:5.1f}×  ({verdict} the {GOAL_SECONDS:.0f} s goal)"
    )
    for phase, spent in phases.items():
        print(f"  {phase:<28} {spent:6.2f} s  {100 * spent / seconds:5.1f} %")
    print(f"  {'commit and the rest':<28} {seconds - sum(phases.values()):6.2f} s")
    print(
        f"again     {again_seconds:6.2f} s  {again_sent} SQL statements  "
        f"(created {again.created}, refreshed {again.refreshed}, kept {again.kept})"
    )
    print(f"scale     {small_run[3].lines} lines: {small_run[2]} SQL statements; {total_lines} lines: {sent}")


if __name__ == "__main__":
    main()
