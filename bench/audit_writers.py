"""The writers of bench/audit_throughput.py, run inside the tree being measured.

Run by path, not as ``python -m bench.…``: this process must import ``opscenter`` from the exported tree (``--tree``,
first on ``PYTHONPATH``), and nothing from this checkout's ``bench`` package, so it imports only the standard
library at the top. Prints one JSON line of figures.

    python bench/audit_writers.py --tree DIR --url URL --writers 8 --seconds 10 --mode service|sql
"""

import argparse
import importlib
import importlib.util
import inspect
import json
import multiprocessing
import statistics
import threading
import time
from pathlib import Path
from typing import Any

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


def _module(*names: str) -> Any:
    """The first of ``names`` the measured tree has: this checkout's name first, then the one the ``--before``
    tree used (issue 19 moved the actor and the identity models to ``opscenter.identity``, the instants module to
    ``opscenter.timekeeping``)."""
    # Found in the measured tree only: the checkout's editable install would otherwise answer a name the measured
    # tree lacks with this checkout's module.
    tree = Path(importlib.import_module("opscenter").__file__ or "").parent.parent
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            continue
        if spec is not None and spec.origin is not None and Path(spec.origin).is_relative_to(tree):
            return importlib.import_module(name)
    raise ModuleNotFoundError(names[0])


def _upgrade(settings: Any) -> None:
    """Migrate with the measured tree's own migrations (``migrations.MIGRATIONS`` since issue 19)."""
    migrations = getattr(importlib.import_module("migrations"), "MIGRATIONS", None)
    upgrade = migrations.upgrade if migrations is not None else importlib.import_module("opscenter.migrate").upgrade
    upgrade(settings)


def _writer_process(
    url: str, threads: int, mode: str, ready: Any, go: Any, window: Any, queue: Any, prefix: int
) -> None:
    import hashlib

    import psycopg

    from opscenter.db import Database, new_id
    from opscenter.organizations import service as organizations
    from opscenter.settings import Settings

    Actor = _module("opscenter.identity.actor", "opscenter.auth.actor").Actor
    identity = _module("opscenter.identity.models", "opscenter.organizations.models")
    OrganizationCreate, OrgKind = identity.OrganizationCreate, identity.OrgKind

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
    from opscenter.scheduler import run_job
    from opscenter.settings import Settings

    assert Path(opscenter.__file__).is_relative_to(tree), f"measuring {opscenter.__file__}, not {tree}"
    settings = Settings(database_url=url)
    _upgrade(settings)
    db = Database(settings)
    seal_job = next((job for job in jobs.JOBS if job.id == "audit.seal"), None)
    # Since issue 19 the caller names the actor jobs run as; a tree from before made its own.
    actor = _module("opscenter.identity.actor", "opscenter.auth.actor").Actor
    job_actor = {"system_actor": actor.of_job} if hasattr(actor, "of_job") else {}

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

        utcnow = _module("opscenter.timekeeping", "opscenter.clock").utcnow

        while time.time() < stop_at:
            tick = time.time()
            if tick >= start_at:
                with db.transaction(write=False) as session:
                    lags.append(backlog(session).lag_seconds(utcnow()))
                run_job(db, seal_job, **job_actor)
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
    # since issue 18 the check opens its own short read transactions; a tree from before takes a session
    if "db" in inspect.signature(audit.verify_chain).parameters:
        report = audit.verify_chain(db)
    else:
        with db.transaction(write=False) as session:
            report = audit.verify_chain(session)  # type: ignore[arg-type]  # the older tree took a session
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
    parser.add_argument("--tree", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--writers", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--mode", choices=["service", "sql"], required=True)
    args = parser.parse_args()
    child(args.tree, args.url, args.writers, args.seconds, args.mode)


if __name__ == "__main__":
    main()
