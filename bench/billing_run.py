"""A billing run over 10,000 contract lines with measurements, tickets and ratings in place: goal under 10 s.

On a SQLite file (WAL) and a scratch PostgreSQL database: 1,000 approved contracts of 10 lines each in force in
October 2026 (a tenth with a line starting mid-month, every 20th also amended mid-month), a service instance per line
with a month of daily SLA measurements (one in seven with an outage), ratings for four instances in five and a P1
ticket past its resolution deadline on one line in twenty. Then, on each database:

- baseline: writing 10,000 rows of the statement line's width with executemany in one transaction, and
  nothing else (the floor any run pays for its output);
- run: ``billing.statements.runs.run_period`` as the job runs it (a read transaction for the inputs, then a
  write transaction per 100 contracts), with where the time goes (each input source, computing the lines,
  writing, auditing) and how many SQL statements it sent;
- again: the same run a second time (every draft refreshed, nothing doubled);
- for scale: the statements a run sends at a tenth of the size, to show that they do not grow with the lines.

The seed: three contracts made through the domains (drafted from an approved purchase request and approved; the
amended one amended and approved; each line provisioned), their instances rated through the ratings service, their
measurements written by the SLA pull's own writer (``write_once``, as a pull from Prometheus would), the tickets
opened through ``open_ticket`` and marked by the tickets sweep; the other 997 contracts and everything on them are
copies of those rows in bulk (``bench.seed``, through ``opscenter.db.insert_rows``).

    .venv/bin/python -m bench.billing_run [--lines 10000] [--db sqlite|postgresql|both]

The machine is shared: run it twice and read both.
"""

import itertools
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Uuid, event, insert
from sqlmodel import Session

from bench import seed
from bench.harness import Timing, arguments, chosen, databases, print_timings, settings_for
from billing.statements import inputs as billing_inputs
from billing.statements.models import Statement, StatementLine
from billing.statements.runs import run as billing_run
from contracts.agreements import flows as contract_flows
from contracts.agreements import service as agreements
from contracts.agreements.models import AmendmentCreate, ContractLineIn
from contracts.instances.models import ServiceInstance
from contracts.terms import Priority
from operations.tickets import service as tickets
from operations.tickets.jobs import JOBS as TICKET_JOBS
from operations.tickets.models import Ticket, TicketCreate, TicketKind
from opscenter.db import Database, core_table, new_id
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from opscenter.timekeeping import Period, replaying
from sla.measurements.models import Measurement
from sla.measurements.pull import write_once
from sla.ratings import service as ratings
from sla.ratings.models import Rating, RatingIn

GOAL_SECONDS = 10.0
PERIOD = Period(2026, 10)
LINES_PER_CONTRACT = 10
START, END, MID_MONTH, AMENDED = date(2026, 1, 1), date(2026, 12, 31), date(2026, 10, 10), date(2026, 10, 16)
NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
ACTOR = Actor.system("bench:billing", "bench")
DEPARTMENTS = 10


def kind_of(contract: int) -> str:
    """Every 20th contract amended mid-month (with a line starting mid-month), every 10th with such a line."""
    return "amended" if contract % 20 == 0 else "mid-month" if contract % 10 == 0 else "plain"


def beneficiaries(people: seed.Cast, contract: int) -> list[uuid.UUID]:
    return [people.department_ids[(contract + line_no) % DEPARTMENTS] for line_no in range(1, LINES_PER_CONTRACT + 1)]


class World:
    """The seeded data: the real templates (by kind) and how many contracts exist."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.people = seed.cast(database, departments=DEPARTMENTS)
        self.service_id = seed.catalog_service(database, self.people)
        self.contracts = 0
        self.templates: dict[str, dict[str, Any]] = {}
        self.serials = itertools.count(1_000_000)
        opened = {}
        for contract, kind in ((0, "amended"), (1, "plain"), (10, "mid-month")):
            self.templates[kind], opened[kind] = self._real(contract, kind)
            self.contracts += 1
        # one sweep past their resolution due time marks the breaches, as the scheduler's sweep would have
        due = max(ticket.resolution_due_at for ticket in opened.values())
        run_job(database, TICKET_JOBS[0], system_actor=Actor.of_job, now=due + timedelta(minutes=1))
        with database.transaction(write=False) as session:
            for kind, ticket in opened.items():
                self.templates[kind]["ticket"] = seed.row_of(session, Ticket, ticket.id)

    def _real(self, contract: int, kind: str) -> tuple[dict[str, Any], Ticket]:
        """A contract of this kind through the flows, and one rating, a month of measurements and a ticket through
        their domains: the rows the copies are made of (the ticket's once the sweep has marked it)."""
        people, database = self.people, self.database
        departments = beneficiaries(people, contract)
        contract_id = seed.approved_contract(
            database, people, number=f"BENCH-{kind}", service_id=self.service_id, departments=departments,
            start=START, end=END, quantity=20, line_starts=[MID_MONTH] if kind != "plain" else [],
        )  # fmt: skip
        if kind == "amended":
            self._amend(contract_id, departments)
        made = seed.provision(database, people, contract_id, labels=[f"{kind}-{n}" for n in range(1, 11)])
        first = made[0]
        department = people.actor(next(p for p in people.departments if p.organization_id == first.department_id))
        with database.transaction(write=True) as session:
            rating = ratings.rate(
                session, RatingIn(service_instance_id=first.id, period=str(PERIOD), score=90), actor=department
            )
            write_once(session, [_measurement(first, day) for day in range(1, PERIOD.days + 1)], fresh=True)
            rows = seed.rows_of(session, Measurement, core_table(Measurement).c.service_instance_id == first.id)
        with replaying(datetime(2026, 10, 15, 2, 0, tzinfo=UTC)), database.transaction(write=True) as session:
            data = TicketCreate(
                kind=TicketKind.INCIDENT, priority=Priority.P1, title="系统无法登录", service_instance_id=first.id
            )
            ticket = tickets.open_ticket(session, data, actor=people.actor(people.operator))
        with database.transaction(write=False) as session:
            template = {
                "contract_id": contract_id,
                "rating": seed.row_of(session, Rating, rating.id),
                "measurements": {row["day"].day: row for row in rows},
            }
        return template, ticket

    def _amend(self, contract_id: uuid.UUID, departments: list[uuid.UUID]) -> None:
        people = self.people
        lines = [
            ContractLineIn(
                line_no=line_no, service_id=self.service_id, department_id=department, quantity=25,
                start_date=MID_MONTH if line_no == 1 else START, end_date=END, unit_price=seed.PRICE,
            )
            for line_no, department in enumerate(departments, start=1)
        ]  # fmt: skip
        with self.database.transaction(write=True) as session:
            contract = agreements.get_contract(session, contract_id, actor=people.actor(people.drafter))
            ceiling = seed.PRICE * 25 * len(lines) * 13
            amendment = AmendmentCreate(effective_date=AMENDED, note="扩容", ceiling=ceiling, lines=lines)
            version = contract_flows.amend(session, contract.id, amendment, actor=people.actor(people.drafter))
            contract_flows.approve_amendment(
                session,
                contract.id,
                version.number,
                actor=people.actor(people.approver),
                expected_version=version.version,
            )

    def grow(self, contracts: int) -> dict[str, int]:
        """Copies of the templates until there are ``contracts`` contracts, with everything on them."""
        added = list(range(self.contracts, contracts))
        counts = {"contracts": 0, "instances": 0, "ratings": 0, "measurements": 0, "tickets": 0}
        for kind, template in self.templates.items():
            mine = [contract for contract in added if kind_of(contract) == kind]
            if not mine:
                continue
            departments = [d for contract in mine for d in beneficiaries(self.people, contract)]
            labels = [f"{kind}-{contract}-{n}" for contract in mine for n in range(1, LINES_PER_CONTRACT + 1)]
            instances = seed.copy_contracts(
                self.database, template["contract_id"], departments=departments, labels=labels
            )
            counts["contracts"] += len(mine)
            counts["instances"] += len(instances)
            counts["ratings"] += seed.copy_rows(self.database, Rating, self._ratings(template, instances))
            counts["measurements"] += seed.copy_rows(
                self.database, Measurement, self._measurements(template, instances)
            )
            counts["tickets"] += seed.copy_rows(self.database, Ticket, self._tickets(template, instances))
        self.contracts += len(added)
        return counts

    def _ratings(self, template: dict[str, Any], instances: list[seed.InstanceRow]) -> Iterator[dict[str, Any]]:
        for n, instance in enumerate(instances):
            if n % 5:  # four in five rated
                yield {**template["rating"], "id": new_id(), "department_id": instance.department_id,
                       "service_instance_id": instance.id, "contract_id": instance.contract_id,
                       "score": 70 + n % 31}  # fmt: skip

    def _measurements(self, template: dict[str, Any], instances: list[seed.InstanceRow]) -> Iterator[dict[str, Any]]:
        for n, instance in enumerate(instances):
            for day, row in template["measurements"].items():
                down = 190 if n % 7 == 0 and day == 12 else 0
                yield {**row, "id": new_id(), "service_instance_id": instance.id, "contract_id": instance.contract_id,
                       "line_no": instance.line_no, "department_id": instance.department_id,
                       "up_samples": row["samples"] - down}  # fmt: skip

    def _tickets(self, template: dict[str, Any], instances: list[seed.InstanceRow]) -> Iterator[dict[str, Any]]:
        for n, instance in enumerate(instances):
            if n % 20 == 0:
                serial = next(self.serials)
                yield {**template["ticket"], "id": new_id(), "serial": serial, "number": f"T-2026-{serial:07d}",
                       "service_instance_id": instance.id, "department_id": instance.department_id,
                       "contract_id": instance.contract_id, "line_no": instance.line_no}  # fmt: skip


def _measurement(instance: ServiceInstance, day: int) -> dict[str, Any]:
    """A day's measurement as the pull writes it (``measure_day``): 1,440 one-minute samples, none missing."""
    return {
        "id": new_id(),
        "service_instance_id": instance.id,
        "contract_id": instance.contract_id,
        "line_no": instance.line_no,
        "department_id": instance.department_id,
        "day": date(PERIOD.year, PERIOD.month, day),
        "up_samples": 1440,
        "samples": 1440,
        "expected_samples": 1440,
        "maintenance_seconds": 0,
        "pulled_at": datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
        "promql": ['sum_over_time(probe_success{instance="…"}[1d])'],
    }


# ---- timing from outside -----------------------------------------------------------------------------------------


class TimedSources:
    """The real SLA reports and ticket breaches, each call timed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def sla(self, session: Session, *, period: Period, keys: Collection[Any] | None, now: datetime) -> Any:
        began = time.perf_counter()
        try:
            return billing_inputs.SOURCES.sla(session, period=period, keys=keys, now=now)
        finally:
            self.seconds["of which sla reports"] = time.perf_counter() - began

    def breaches(self, session: Session, *, period: Period, contract_ids: Collection[uuid.UUID] | None) -> Any:
        began = time.perf_counter()
        try:
            return billing_inputs.SOURCES.breaches(session, period=period, contract_ids=contract_ids)
        finally:
            self.seconds["of which ticket breaches"] = time.perf_counter() - began


class Phases:
    """Each phase's time from the run's progress reports: from the end of the phase before to its last report."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.finished: dict[str, float] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.finished[phase] = time.perf_counter()

    def seconds(self) -> dict[str, float]:
        ends = [self.started, *self.finished.values()]
        return {phase: end - ends[n] for n, (phase, end) in enumerate(self.finished.items())}


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
    sources, phases = TimedSources(), Phases()
    with counting(db.engine) as sent:
        start = time.perf_counter()
        result = billing_run(db, period=PERIOD, actor=ACTOR, sources=sources, now=NOW, progress=phases)
        seconds = time.perf_counter() - start
    by_phase = phases.seconds()
    inputs = {"inputs": by_phase.pop("inputs", 0.0), **{f"  {name}": spent for name, spent in sources.seconds.items()}}
    return seconds, {**inputs, **by_phase}, sent[0], result.run


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


def report(name: str, url: str, lines: int) -> None:
    db = Database(settings_for(url))
    try:
        world = World(db)
        # a tenth first, for the count of statements at that size; then the rest, and the run over them all
        world.grow(max(lines // LINES_PER_CONTRACT // 10, world.contracts))
        small_run = timed_run(db)
        with db.transaction(write=True) as session:  # the big run starts from no statement
            session.execute(core_table(StatementLine).delete())
            session.execute(core_table(Statement).delete())
        seeded = world.grow(max(lines // LINES_PER_CONTRACT, world.contracts))
        floor = baseline(db, lines)
        seconds, phases, sent, run = timed_run(db)
        again_seconds, _, again_sent, again = timed_run(db)
    finally:
        db.dispose()
    base = f"baseline: insert {run.lines} rows (executemany, 1 transaction)"
    verdict = "within" if seconds < GOAL_SECONDS else "OVER"
    timings = [
        Timing(base, floor, run.lines, "lines"),
        Timing(f"run ({sent} SQL statements; {verdict} the {GOAL_SECONDS:.0f} s goal)", seconds, run.lines,
               "lines", base),
        *(Timing(f"  {phase}", spent, note=f"{100 * spent / seconds:5.1f} % of the run")
          for phase, spent in phases.items()),
        Timing(
            f"again ({again_sent} SQL statements)", again_seconds, again.lines, "lines", base,
            note=f"created {again.created}, refreshed {again.refreshed}, kept {again.kept}",
        ),
    ]  # fmt: skip
    print(f"\nseeded beyond the first tenth (copies): {seeded}")
    print(f"scale: {small_run[3].lines} lines: {small_run[2]} SQL statements; {run.lines} lines: {sent}")
    print_timings(f"billing run on {name}: {run.contracts} contracts, {run.lines} lines, {PERIOD}", timings)


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    with databases(chosen(args)) as urls:
        for name, url in urls.items():
            report(name, url, args.lines)


if __name__ == "__main__":
    main()
