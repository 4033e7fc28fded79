"""POST /api/v1/ratings under load, beside a bare endpoint inserting one row into the same database.

For SQLite (WAL file) and PostgreSQL (a scratch database), in one run:

- bare:    the bare Litestar endpoint of ``bench/bare.py`` inserting one row per request (no auth, no validation,
           no audit): the ceiling of one write transaction per request;
- ratings: the real ``POST /api/v1/ratings`` (API key, validation, Idempotency-Key claimed and answered,
           contract-line check, rating period held, the rating, its audit event), each request a new
           (instance, month) under a new key;
- batch:   ``POST /api/v1/ratings/batch`` with one month of every instance (500 ratings), timed end to end, three
           times, beside the same number of single ratings' time at the measured rate.

Seeded through the domains (``bench/seed.py``): one department with 500 service instances on approved contracts in
force 2020-01-01..2026-12-31. Goals: ratings >= 0.5x bare, ratings p99 <= 100 ms, batch of 500 < 1 s.

    .venv/bin/python -m bench.ratings_api [--db sqlite|postgresql|both] [--seconds 10] [--connections 50] [--pin]
                                          [--instances 500] [--profile DIR]

``--profile DIR`` samples the ratings server with py-spy during the measured run (``scripts/setup-venv dev,bench``)
and prints where its time went.
"""

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from datetime import date

from bench import seed
from bench.harness import (
    BARE_INSERT,
    Figure,
    Load,
    Timing,
    arguments,
    bare_server,
    chosen,
    databases,
    drive,
    each,
    opscenter_server,
    options,
    print_figures,
    print_profile,
    print_timings,
    profiled,
    require_tools,
    settings_for,
)
from opscenter.db import Database
from tests import loopback

INSTANCES = 500
LOAD_MONTHS = [f"{year}-{month:02d}" for year in range(2020, 2026) for month in range(1, 13)]  # 72 months
BATCH_MONTHS = ["2026-01", "2026-02", "2026-03"]  # one month of every instance per batch


@dataclass(frozen=True)
class Seeded:
    department_key: str
    instance_ids: list[str]


def seed_instances(url: str, *, instances: int = INSTANCES) -> Seeded:
    """One department with ``instances`` service instances on approved contracts in force 2020..2026."""
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
        made = seed.provisioned(
            database,
            people,
            service_id=service_id,
            departments=people.department_ids * instances,
            start=date(2020, 1, 1),
            end=date(2026, 12, 31),
        )
    finally:
        database.dispose()
    return Seeded(people.departments[0].key, [str(instance.id) for instance in made])


def ratings(seeded: Seeded, pairs: range, name: str) -> Load:
    """Each request rates a new (instance, month) of ``LOAD_MONTHS``, the ``pairs``-th ones, under a new key."""
    ids = seeded.instance_ids
    bodies = [
        json.dumps(
            {"service_instance_id": ids[n % len(ids)], "period": LOAD_MONTHS[n // len(ids)], "score": 60 + n % 40}
        )
        for n in pairs
    ]
    headers = {
        "Authorization": f"Bearer {seeded.department_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": "{n}",
    }
    return Load(name, "/api/v1/ratings", method="POST", headers=headers, bodies=bodies, baseline=BARE_INSERT.name)


def time_batches(base: str, seeded: Seeded, months: list[str]) -> list[float]:
    """Seconds per batch of one month of every instance, end to end over HTTP."""
    timings = []
    with loopback.client(
        base_url=base, headers={"Authorization": f"Bearer {seeded.department_key}"}, timeout=60
    ) as http:
        for month in months:
            items = [
                {"service_instance_id": instance_id, "period": month, "score": 60 + n % 40}
                for n, instance_id in enumerate(seeded.instance_ids)
            ]
            started = time.perf_counter()
            answer = http.post("/api/v1/ratings/batch", json={"items": items}, headers={"Idempotency-Key": month})
            timings.append(time.perf_counter() - started)
            if answer.status_code != 201:
                raise RuntimeError(f"batch {month}: {answer.status_code} {answer.text[:500]}")
    return timings


def run(name: str, url: str, args: argparse.Namespace) -> None:
    seeded = seed_instances(url, instances=args.instances)
    load = options(args)
    warm = options(args, seconds=max(2, args.seconds // 5))
    pairs = len(LOAD_MONTHS) * len(seeded.instance_ids)
    figures: list[Figure] = []
    with bare_server(url, pin=args.pin) as bare:
        drive(bare, BARE_INSERT, warm)
        figures.append(drive(bare, BARE_INSERT, load))
    profile = args.profile / f"ratings-{name}.txt" if args.profile else None
    with opscenter_server(url, pin=args.pin) as server:
        # the warm-up rates the second half of the pairs, the measured run the first: no pair twice
        drive(server, ratings(seeded, range(pairs // 2, pairs), "warm-up"), warm)
        with profiled(server, profile):
            figures.append(drive(server, ratings(seeded, range(pairs // 2), "POST /api/v1/ratings"), load))
        batches = time_batches(server.base_url, seeded, BATCH_MONTHS)
    print_figures(
        f"{name}: ratings, {load.connections} connections, {each(load)} (goals: >= 0.5x, p99 <= 100 ms)", figures
    )
    single = figures[-1].requests_per_second
    count = len(seeded.instance_ids)
    timings = [Timing(f"{count} single ratings at the measured rate", count / single, count, "ratings")]
    timings += [
        Timing(f"batch of {count} ({month})", seconds, count, "ratings", baseline=timings[0].name)
        for month, seconds in zip(BATCH_MONTHS, batches, strict=True)
    ]
    print_timings(
        f"{name}: a month of every instance in one batch (goal < 1 s; median {statistics.median(batches):.2f} s)",
        timings,
    )
    if profile is not None:
        print_profile("POST /api/v1/ratings", profile)


def main() -> None:
    parser = arguments(__doc__, load=True)
    parser.add_argument("--instances", type=int, default=INSTANCES, help="service instances (at most 500 a batch)")
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    with databases(chosen(args)) as urls:
        for name, url in urls.items():
            run(name, url, args)


if __name__ == "__main__":
    main()
