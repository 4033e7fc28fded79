"""Audited writes per second on PostgreSQL: the trail chained on write (before) against queue + sequencer (after).

Each writer runs what every audited request runs: one transaction that creates an organization through
its service (a uniqueness check, the insert, the audit event) and commits. Writers are threads spread over
several processes, as several API processes would be. "before" is the code at ``--before`` (default: the
last commit where each audited write locked the chain's head row until commit), exported with
``git archive``; "after" is this checkout, with the ``audit.seal`` job running every second beside the
writers, as a worker would. Every run gets a fresh database; at the end the trail is sealed and verified.

A second table (``--mode sql``) runs each protocol's statements alone from the same writers, so that Python's
CPU time per request (large on a small, busy machine) does not hide what the database allows: before, lock
the head row, insert the chained event, update the head, commit; after, insert the event and its queue
entry, commit (the sealing is the real job, as above).

    .venv/bin/python bench/audit_throughput.py [--writers 8 16 50] [--seconds 10] [--before e9d26c8]
                                               [--mode service sql]
"""

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("OPSCENTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The last commit whose audited writes locked audit_chain_head until commit.
BEFORE = "e9d26c8"


@contextmanager
def scratch_database() -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(ADMIN_URL).set(drivername="postgresql")
    name = f"opscenter_bench_{uuid.uuid4().hex[:8]}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """The tree at ``ref``, outside this checkout."""
    with tempfile.TemporaryDirectory(prefix="opscenter-before-") as directory:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
        yield Path(directory)


def measure(tree: Path, url: str, writers: int, seconds: float, mode: str) -> dict[str, Any]:
    """Run the writers against ``tree``'s code in a child process (so its ``opscenter`` is the one imported)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPSCENTER_LOG_LEVEL": "WARNING"}
    args = [sys.executable, __file__, "--child", str(tree), "--url", url]
    args += ["--writers", str(writers), "--seconds", str(seconds), "--mode", mode]
    result = subprocess.run(args, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the run against {tree} failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


# ---- the child: runs with the measured tree's ``opscenter`` on its path ------------------------------------


ORGANIZATION = (
    "INSERT INTO organization (id, version, created_at, updated_at, name, kind)"
    " VALUES (%(org)s, 1, now(), now(), %(name)s, 'department')"
)
# The protocols alone: before, the head row is locked from the event's insert until commit.
BEFORE_SQL = [
    ORGANIZATION,
    "SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE",
    "INSERT INTO audit_event (id, occurred_at, actor_name, actor_role, action, object_type, object_id, changes,"
    " request_id, seq, prev_hash, hash) VALUES (%(event)s, now(), 'bench', 'system', 'organization.create',"
    " 'organization', %(org)s, '{}', 'bench', (SELECT seq + 1 FROM audit_chain_head WHERE id = 1), %(prev)s, %(hash)s)",
    "UPDATE audit_chain_head SET seq = seq + 1, hash = %(hash)s WHERE id = 1",
]
AFTER_SQL = [
    ORGANIZATION,
    "INSERT INTO audit_event (id, occurred_at, actor_name, actor_role, action, object_type, object_id, changes,"
    " request_id) VALUES (%(event)s, now(), 'bench', 'system', 'organization.create',"
    " 'organization', %(org)s, '{}', 'bench')",
    "INSERT INTO audit_queue (event_id) VALUES (%(event)s)",
]


def _writer_process(
    url: str, threads: int, mode: str, ready: Any, go: Any, window: Any, queue: Any, prefix: int
) -> None:
    import hashlib

    import psycopg

    from opscenter.auth.actor import Actor
    from opscenter.db import Database, new_id
    from opscenter.organizations import service as organizations
    from opscenter.organizations.models import OrganizationCreate, OrgKind
    from opscenter.settings import Settings

    db = Database(Settings(database_url=url, db_pool_size=threads))
    with db.transaction(write=False) as session:
        organizations.find_organization(session, "warm-up")  # imports done, a connection open
        chained = session.get_bind().dialect.has_table(session.connection(), "audit_chain_head") and not (
            session.get_bind().dialect.has_table(session.connection(), "audit_queue")
        )
    statements = BEFORE_SQL if chained else AFTER_SQL
    connections = [psycopg.connect(url) for _ in range(threads)] if mode == "sql" else []
    if connections:
        db.dispose()  # the sql mode needs only its own connections
    latencies: list[list[float]] = [[] for _ in range(threads)]
    ready.release()
    go.wait()
    stop_at = window.value

    def service_write(index: int, n: int) -> None:
        with db.transaction(write=True) as session:
            data = OrganizationCreate(name=f"{prefix}-{index}-{n}", kind=OrgKind.DEPARTMENT)
            organizations.create_organization(session, data, actor=Actor.system("bench", f"bench-{index}"))

    def sql_write(index: int, n: int) -> None:
        digest = hashlib.sha256(f"{prefix}-{index}-{n}".encode()).hexdigest()
        values = {"org": new_id(), "event": new_id(), "name": f"{prefix}-{index}-{n}", "prev": digest, "hash": digest}
        with connections[index].transaction():
            for statement in statements:
                connections[index].execute(statement, values)

    def write(index: int) -> None:
        n = 0
        while (began := time.time()) < stop_at:
            (sql_write if mode == "sql" else service_write)(index, n)
            latencies[index].append(time.time() - began)
            n += 1

    workers = [threading.Thread(target=write, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for connection in connections:
        connection.close()
    db.dispose()
    queue.put([latency for per_thread in latencies for latency in per_thread])


def child(tree: str, url: str, writers: int, seconds: float, mode: str) -> None:
    import opscenter
    from opscenter.audit import jobs
    from opscenter.audit import service as audit
    from opscenter.db import Database
    from opscenter.migrate import upgrade
    from opscenter.scheduler import run_job
    from opscenter.settings import Settings

    assert Path(opscenter.__file__).is_relative_to(tree), f"measuring {opscenter.__file__}, not {tree}"
    settings = Settings(database_url=url)
    upgrade(settings)
    db = Database(settings)
    seal_job = next((job for job in jobs.JOBS if job.id == "audit.seal"), None)

    processes = min(4, writers)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ready, go, window = context.Semaphore(0), context.Event(), context.Value("d", 0.0)
    spawned = [
        context.Process(
            target=_writer_process,
            args=(url, writers // processes + (n < writers % processes), mode, ready, go, window, results, n),
        )
        for n in range(processes)
    ]
    for process in spawned:
        process.start()
    for _ in spawned:
        ready.acquire()  # every process has imported its code and opened a connection
    start_at = time.time()
    stop_at = window.value = start_at + seconds
    go.set()

    # The sequencer beside the writers, ticking every second as the scheduler would.
    lags: list[float] = []
    seal_runs: list[float] = []
    if seal_job is not None:
        from opscenter.audit.sequencer import backlog
        from opscenter.clock import utcnow

        while time.time() < stop_at:
            tick = time.time()
            if tick >= start_at:
                with db.transaction(write=False) as session:
                    lags.append(backlog(session).lag_seconds(utcnow()))
                run_job(db, seal_job)
                seal_runs.append(time.time() - tick)
            time.sleep(max(0.0, 1 - (time.time() - tick)))

    latencies = [latency for _ in spawned for latency in results.get()]
    for process in spawned:
        process.join()

    sealing_rest = time.time()
    sealed_after = 0
    if seal_job is not None:
        from opscenter.audit.sequencer import seal_backlog

        sealed_after = seal_backlog(db)
    sealing_rest = time.time() - sealing_rest
    report = audit.verify_chain(db)
    db.dispose()
    latencies.sort()
    print(
        json.dumps(
            {
                "writes": len(latencies),
                "per_second": len(latencies) / seconds,
                "p50_ms": 1000 * statistics.median(latencies),
                "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
                "max_lag_s": max(lags, default=0.0),
                "seal_run_max_s": max(seal_runs, default=0.0),
                "left_to_seal": sealed_after,
                "sealing_rest_s": sealing_rest,
                "verified": report.checked,
                # The sql mode's "before" writes placeholder hashes: only the real code's trail can verify.
                "intact": report.intact or (mode == "sql" and seal_job is None),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 16, 50])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--before", default=BEFORE, help="git ref of the chained-on-write code")
    parser.add_argument("--mode", nargs="+", choices=["service", "sql"], default=["service", "sql"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.writers[0], args.seconds, args.mode[0])
        return

    print(f"audited writes on PostgreSQL, {args.seconds:.0f} s per run, fresh database each run, {os.cpu_count()} CPUs")
    print(f"before: {args.before} (head row locked per write); after: this checkout (queue + audit.seal every 1 s)")
    with exported(args.before) as before_tree:
        for mode in args.mode:
            print(f"\n{TITLES[mode]}")
            header = (
                f"{'writers':>7}  {'code':<6} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7}  {'seal lag max':>12}  verify"
            )
            print(header)
            print("-" * len(header))
            for writers in args.writers:
                rows = {}
                for label, tree in (("before", before_tree), ("after", ROOT)):
                    with scratch_database() as url:
                        figures = rows[label] = measure(tree, url, writers, args.seconds, mode)
                    lag = f"{figures['max_lag_s']:.2f} s" if label == "after" else "-"
                    verdict = (
                        "-" if mode == "sql" and label == "before" else "intact" if figures["intact"] else "BROKEN"
                    )
                    print(
                        f"{writers:>7}  {label:<6} {figures['per_second']:>9.0f} {figures['p50_ms']:>7.1f} "
                        f"{figures['p99_ms']:>7.1f}  {lag:>12}  {verdict} ({figures['verified']} sealed)",
                        flush=True,
                    )
                ratio = rows["after"]["per_second"] / rows["before"]["per_second"]
                print(f"{'':>7}  after/before: {ratio:.2f}x", flush=True)


TITLES = {
    "service": "the real code: organizations.create_organization in one transaction per write",
    "sql": "the protocols' statements alone (psycopg, no ORM): what the database allows",
}

if __name__ == "__main__":
    main()
