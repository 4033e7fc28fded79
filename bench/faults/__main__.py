"""Faults under load, together: what holds when an API process, the leading worker, PostgreSQL and Prometheus all
fail while ratings, tickets and purchase requests are being written.

Everything runs on 127.0.0.1 and is started here: a PostgreSQL cluster of its own (``initdb`` in a temporary
directory, ``pg_ctl`` on a free port — never the machine's shared server), migrated and seeded through the domains
(``bench/seed.py``: a department with ``--instances`` instances on an approved contract, an operator), an Ed25519
audit signing key (``opscenter audit keygen``), an empty real Prometheus, ``opscenter serve --workers 2
--no-scheduler`` and two ``opscenter worker`` (the jobs are theirs). Threads of this process write through the API
(``bench/faults/load.py``) for the whole run, while, in this order:

1. one uvicorn worker of ``serve`` is SIGKILLed under the load (uvicorn's supervisor starts another);
2. Prometheus is SIGSTOPped and both workers start: the one that takes the lock leads and begins its catch-up
   (SLA pull, billing run, every job that never ran), its pull waiting on the stopped Prometheus; the leader is
   SIGKILLed mid-job and the standby takes over (and runs what the leader left unfinished);
3. Prometheus is SIGKILLed while stopped and started again on its port (the new leader's pull retries into it);
4. PostgreSQL is restarted with ``pg_ctl restart -m immediate`` (crash recovery); the seconds until the API
   answers 2xx again are measured from the moment PostgreSQL accepts connections (the pool's pre-ping drops the
   dead connections, ``opscenter/db.py``).

Then the load stops and the database is read: every write answered 2xx is stored once, no Idempotency-Key made two
objects, every job has run (``job_run``), ``opscenter audit verify`` passes against a checkpoint signed now. It
prints what it tried and what held, and exits 1 when something did not hold.

    python -m bench.faults [--seconds 4] [--instances 4]
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from bench import seed
from bench.faults.checks import Held, audit_verified, job_runs, jobs_caught_up, writes_held
from bench.faults.cluster import PrivatePostgres, api_workers, serving_now
from bench.faults.load import Driver
from bench.harness import BIN, Timing, arguments, print_timings, settings_for, upgrade
from bench.harness.servers import UNREACHED_RATE_LIMITS
from opscenter.db import Database
from tests import loopback
from tests.processes import OpsCenterProcess, eventually, free_port
from tests.prometheus import Prometheus

POLL = "0.5"  # the standby's poll for the leader's lock: the takeover bound


def seeded(url: str, instances: int) -> dict[str, object]:
    database = Database(settings_for(url))
    try:
        people = seed.cast(database, departments=1)
        service_id = seed.catalog_service(database, people)
        made = seed.provisioned(database, people, service_id=service_id,
                                departments=people.department_ids * instances,
                                start=date(2020, 1, 1), end=date(2026, 12, 31))  # fmt: skip
    finally:
        database.dispose()
    return {"department": people.departments[0].key, "operator": people.operator.key, "service": str(service_id),
            "instances": [str(instance.id) for instance in made]}  # fmt: skip


def ready(port: int) -> bool:
    import httpx

    try:
        return loopback.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    parser = arguments(__doc__, databases=("postgresql",), pin=False)
    parser.add_argument("--seconds", type=float, default=4.0, help="load between and after the faults")
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs) and print where")
    args = parser.parse_args()
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="opscenter-faults-"))
    tried: list[str] = []
    timings: list[Timing] = []
    postgres = PrivatePostgres(root / "pg")
    processes: list[OpsCenterProcess] = []
    prometheus: Prometheus | None = None
    try:
        postgres.create()
        upgrade(postgres.url)
        world = seeded(postgres.url, args.instances)
        opscenter = str(BIN / "opscenter")
        env = {"OPSCENTER_DATABASE_URL": postgres.url, "OPSCENTER_LOG_LEVEL": "WARNING", **UNREACHED_RATE_LIMITS}
        key = root / "audit-signing.pem"
        subprocess.run([opscenter, "audit", "keygen", "--private", str(key), "--public", str(root / "audit.pub")],
                       env={**os.environ, **env}, check=True, capture_output=True)  # fmt: skip
        prometheus = Prometheus(root / "prometheus")
        prometheus.start()
        env.update({
            "OPSCENTER_AUDIT_SIGNING_KEY_FILE": str(key), "OPSCENTER_PROMETHEUS_URL": prometheus.url,
            # a pull waits on the stopped Prometheus until it is killed (a read timeout is not retried; the reset
            # connection of the killed one is, into the restarted one)
            "OPSCENTER_PROMETHEUS_READ_TIMEOUT_SECONDS": "120", "OPSCENTER_PROMETHEUS_RETRIES": "6",
            "OPSCENTER_PROMETHEUS_RETRY_BACKOFF_SECONDS": "0.5",
            "OPSCENTER_SCHEDULER_POLL_SECONDS": POLL,
        })  # fmt: skip
        port = free_port()
        serve = OpsCenterProcess(["serve", "--workers", "2", "--no-scheduler", "--port", str(port)], env=env,
                                 log=root / "serve.log")  # fmt: skip
        processes.append(serve)
        eventually(lambda: ready(port), within=120, what="opscenter serve --workers 2 answers /ready")
        driver = Driver(f"http://127.0.0.1:{port}", department_key=str(world["department"]),
                        operator_key=str(world["operator"]), instance_ids=list(world["instances"]),  # type: ignore[call-overload]
                        service_id=str(world["service"]))  # fmt: skip
        driver.start()
        load_began = time.monotonic()
        pause = args.seconds / 4

        time.sleep(pause)
        workers = api_workers(serve.pid)
        # the worker holding a client's connection now, so the kill lands mid-request (any worker after 5 s)
        deadline, victim = time.monotonic() + 5, None
        while victim is None and time.monotonic() < deadline:
            victim = serving_now(workers, port)
            time.sleep(0.005)
        mid_request = victim is not None
        victim = victim or workers[0]
        os.kill(victim, signal.SIGKILL)
        tried.append(
            f"SIGKILL API worker {victim} of serve (workers {workers}) "
            + ("holding a client's connection" if mid_request else "(no connection caught in flight)")
        )

        time.sleep(pause)
        assert prometheus.process is not None
        prometheus.process.send_signal(signal.SIGSTOP)
        # two workers at once; whichever takes the lock first leads, the other stands by
        both = [OpsCenterProcess(["worker"], env={**env, "OPSCENTER_LOG_LEVEL": "INFO"}, log=root / f"worker-{n}.log")
                for n in (1, 2)]  # fmt: skip
        processes.extend(both)
        leader = eventually(lambda: next((w for w in both if "leads" in w.output()), None), within=120,
                            what="a worker leads")  # fmt: skip
        standby = next(w for w in both if w is not leader)
        eventually(lambda: "waiting to lead" in standby.output(), within=120, what="the standby worker is up")
        time.sleep(1.0)  # the leader's catch-up is running; its SLA pull hangs on the stopped Prometheus
        from opscenter.plugin import scheduled_jobs

        expected = [job.id for job in scheduled_jobs(settings_for(postgres.url))]
        leader.kill()
        done = job_runs(postgres.url)
        unfinished = [job for job in expected if job not in done]
        killed_at = time.monotonic()
        tried.append(
            f"SIGSTOP Prometheus; SIGKILL the leading worker {leader.pid} mid-job: "
            f"{len(done)} of {len(expected)} jobs done, unfinished: {', '.join(unfinished) or 'none'}"
        )
        eventually(lambda: "leads" in standby.output(), within=60, what="the standby takes over")
        timings.append(Timing("standby worker leads after the leader's SIGKILL", time.monotonic() - killed_at,
                              baseline=None, note=f"poll {POLL} s"))  # fmt: skip

        time.sleep(pause)
        prometheus.process.kill()
        prometheus.process.wait()
        prometheus.start()
        tried.append("SIGKILL the stopped Prometheus mid-pull, start it again on its port")

        time.sleep(pause)
        began = time.monotonic()
        back = postgres.restart_immediately()
        recovery = eventually(lambda: driver.answering_again(back), within=120, what="the API answers again")
        tried.append("pg_ctl restart -m immediate under load")
        timings.append(Timing("pg_ctl restart -m immediate, until it accepts connections", back - began))
        timings.append(Timing("API answers 2xx again after PostgreSQL is back", recovery,
                              baseline="pg_ctl restart -m immediate, until it accepts connections"))  # fmt: skip

        time.sleep(pause)
        driver.stop()
        tried.append(f"load ran {time.monotonic() - load_began:.1f} s after {load_began - started:.1f} s of set-up")
        survivors = api_workers(serve.pid)
        tried.append(f"serve has {len(survivors)} API workers at the end ({survivors})")

        eventually(lambda: jobs_caught_up(postgres.url, expected)[0].held, within=90, what="every job ran")
        jobs, ran = jobs_caught_up(postgres.url, expected)
        standby_runner = f":{standby.pid}"
        taken_over = [job for job in unfinished if ran.get(job, "").endswith(standby_runner)]
        pull = ran.get("sla.pull_measurements", "-")
        billing = ran.get("billing.monthly_run", "-")
        held: list[Held] = [
            *writes_held(postgres.url, driver.ledger.writes),
            Held(
                jobs.what,
                jobs.held,
                f"{jobs.evidence}; SLA pull by {pull}, billing run by {billing}; killed "
                f"leader pid {leader.pid}, standby pid {standby.pid}",
            ),
            Held(
                "the jobs the killed leader left unfinished ran on the standby",
                len(taken_over) == len(unfinished),
                f"{len(taken_over)} of {len(unfinished)} ({', '.join(unfinished) or 'none was unfinished'})",
            ),
            audit_verified(opscenter, {**os.environ, **env}, postgres.url),
            Held("API answered again after PostgreSQL came back", recovery < 30, f"{recovery:.2f} s (bound 30 s)"),
        ]
    finally:
        for process in reversed(processes):
            process.stop()
        if prometheus is not None:
            prometheus.stop()
        postgres.stop()
        if args.keep:
            print(f"logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    print("faults tried, in order:")
    for step, what in enumerate(tried, 1):
        print(f"  {step}. {what}")
    print_timings(f"seconds (the whole run {time.monotonic() - started:.0f} s)", timings)
    print(f"{'what must hold':<55} {'held':<5} evidence")
    for check in held:
        print(f"{check.what:<55} {'yes' if check.held else 'NO':<5} {check.evidence}")
    if not all(check.held for check in held):
        raise SystemExit("something did not hold (above)")


if __name__ == "__main__":
    main()
