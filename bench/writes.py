"""The house's audited writes beside the same work written by hand, in one run.

Per database (SQLite, PostgreSQL), 50 connections by default, each write on the real ``opscenter serve`` and on
``bench/by_hand.py`` (a bare Litestar app sending the same statements through SQLAlchemy Core, the API key in a
dict, the body through the domain's pydantic model: see its docstring):

- ``POST /api/v1/purchase-requests`` (one item): goal >= 0.5x by hand, p99 <= 100 ms, RSS <= 150 MiB;
- ``POST /api/v1/ratings`` (a new instance and month each, under a new Idempotency-Key): the same goals;
- ``POST /api/v1/tickets`` (P3 on the business clock, a new Idempotency-Key each): the same goals;

and the second reference, the house floor (``bench/floor.py``: the purchase request's POST through the house
with no SQL) and the bare one-row insert (``bench/bare.py``). Each load is warmed up for a fifth of its time first.
Seeded through the domains (``bench/seed.py``): one department with ``--instances`` service instances on approved
contracts in force 2020-01-01..2026-12-31 (every rating load rates pairs no other load rated).

    .venv/bin/python -m bench.writes [--db sqlite|postgresql|both] [--seconds 10] [--connections 50] [--pin]
                                     [--instances 700] [--profile DIR]
"""

import argparse
import json
from dataclasses import replace
from datetime import date

from bench import seed
from bench.floor import FLOOR_PATH
from bench.harness import (
    BARE_INSERT,
    Figure,
    Load,
    Options,
    Server,
    arguments,
    bare_server,
    check,
    chosen,
    databases,
    drive,
    each,
    floor_server,
    module_server,
    opscenter_server,
    options,
    print_figures,
    print_profile,
    profiled,
    require_tools,
    settings_for,
)
from opscenter.db import Database

MONTHS = [f"{year}-{month:02d}" for year in range(2020, 2027) for month in range(1, 13)][:83]  # to 2026-11
WRITES = ("purchase request", "rating", "ticket")


class World:
    """The seeded department, its key, a catalog service and its instances, and the rating pairs not yet used."""

    def __init__(self, url: str, instances: int) -> None:
        database = Database(settings_for(url))
        try:
            people = seed.cast(database, departments=1)
            self.service_id = seed.catalog_service(database, people)
            made = seed.provisioned(
                database,
                people,
                service_id=self.service_id,
                departments=people.department_ids * instances,
                start=date(2020, 1, 1),
                end=date(2026, 12, 31),
            )
        finally:
            database.dispose()
        self.key = people.departments[0].key
        self.instance_ids = [str(instance.id) for instance in made]
        self._pairs = ((instance, month) for month in MONTHS for instance in self.instance_ids)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json", "Idempotency-Key": "{n}"}

    def rating_bodies(self, count: int) -> list[str]:
        """``count`` ratings of pairs no load has rated yet (fewer when the pairs run out)."""
        return [
            json.dumps({"service_instance_id": instance, "period": month, "score": 60 + n % 40})
            for n, (instance, month) in zip(range(count), self._pairs, strict=False)
        ]


RATE = 2500  # rating bodies per second of load: more than either side answers here, so no pair is rated twice


def loads(world: World, *, ratings: int, side: str) -> list[Load]:
    """The three writes as ``side`` ("house" or "by hand") is measured, each against its by-hand figure; the rating
    load carries ``ratings`` new pairs (at least one)."""
    item = {
        "service_id": str(world.service_id),
        "quantity": 2,
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "justification": "bench",
    }
    ticket = {
        "service_instance_id": world.instance_ids[0],
        "kind": "incident",
        "priority": "P3",
        "title": "数据库连接超时",
        "description": "bench",
    }
    versus = "" if side == "by hand" else " (by hand)"
    return [
        Load(
            f"POST purchase request ({side})",
            "/api/v1/purchase-requests",
            method="POST",
            headers=world.headers,
            body=json.dumps({"title": "bench", "items": [item]}),
            baseline=f"POST purchase request{versus}" if versus else None,
        ),
        Load(
            f"POST rating ({side})",
            "/api/v1/ratings",
            method="POST",
            headers=world.headers,
            bodies=world.rating_bodies(max(1, ratings)),
            baseline=f"POST rating{versus}" if versus else None,
        ),
        Load(
            f"POST ticket ({side})",
            "/api/v1/tickets",
            method="POST",
            headers=world.headers,
            body=json.dumps(ticket, ensure_ascii=False),
            baseline=f"POST ticket{versus}" if versus else None,
        ),
    ]


def measure(server: Server, world: World, side: str, run: Options, args: argparse.Namespace, db: str) -> list[Figure]:
    """Each write checked once, warmed up for a fifth of the run, then measured (new rating pairs each time)."""
    warm = Options(max(1, run.seconds // 5), run.connections, min(run.requests, 10), run.pin)
    for load in loads(world, ratings=1, side=side):
        check(server, load, expect=201)
    for load in loads(world, ratings=_ratings_for(warm), side=side):
        drive(server, load, warm)
    figures = []
    for load in loads(world, ratings=_ratings_for(run), side=side):
        slug = f"{db}-{side.replace(' ', '_')}-{load.path.rsplit('/', 1)[-1]}"
        out = args.profile / f"{slug}.txt" if args.profile and side == "house" else None
        with profiled(server, out):
            figures.append(drive(server, load, run))
        if out is not None:
            print_profile(load.name, out)
    return figures


def _ratings_for(run: Options) -> int:
    """New rating pairs a load needs: its requests, or more than it answers in its seconds."""
    return run.requests if run.requests else RATE * run.seconds


def run(db: str, url: str, args: argparse.Namespace) -> None:
    world = World(url, args.instances)
    load = options(args)
    figures: list[Figure] = []
    with module_server("bench.by_hand", "--url", url, pin=args.pin) as by_hand:
        figures += measure(by_hand, world, "by hand", load, args, db)
    with opscenter_server(url, pin=args.pin) as server:
        figures += measure(server, world, "house", load, args, db)
    purchase = loads(world, ratings=1, side="house")[0]
    floor_load = replace(purchase, name="house floor: the PR's POST, no SQL", path=FLOOR_PATH)
    floor_load = replace(floor_load, baseline=BARE_INSERT.name)
    with floor_server(url, pin=args.pin) as floor:
        check(floor, floor_load, expect=201)
        figures.append(drive(floor, floor_load, load))
    with bare_server(url, pin=args.pin) as bare:
        check(bare, BARE_INSERT, expect=201)
        figures.append(drive(bare, BARE_INSERT, load))
    print_figures(
        f"{db}: audited writes beside the same SQL by hand, {load.connections} connections, {each(load)}"
        " (goals: >= 0.5x, p99 <= 100 ms, RSS <= 150 MiB)",
        figures,
    )


def main() -> None:
    parser = arguments(__doc__, load=True)
    parser.add_argument("--instances", type=int, default=700, help="service instances to rate (83 months each)")
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    with databases(chosen(args)) as urls:
        for db, url in urls.items():
            run(db, url, args)


if __name__ == "__main__":
    main()
