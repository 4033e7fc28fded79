"""Several ``opscenter worker`` processes on one PostgreSQL: exactly one runs the jobs, another takes over when it
dies. Real processes, a real crash (SIGKILL), and the fire drill's 2- and 3-second jobs."""

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from opscenter.settings import Settings
from tests.opscenter.drill_jobs import LOG_VARIABLE, TRIGGERS, runs
from tests.processes import DRILL_ENV, POLL_SECONDS, OpsCenterProcess, eventually, free_port, leads, sample, scrape

pytestmark = pytest.mark.postgresql_only  # the leader's lock is a PostgreSQL advisory lock


@dataclass
class Worker:
    process: OpsCenterProcess
    port: int  # its /metrics


def _workers(settings: Settings, tmp_path: Path) -> list[Worker]:
    env = {"OPSCENTER_DATABASE_URL": settings.database_url, LOG_VARIABLE: str(tmp_path / "drill.log"), **DRILL_ENV}
    started = []
    for name in ("a", "b"):
        port = free_port()
        process = OpsCenterProcess(["worker", "--metrics-port", str(port)], env=env, log=tmp_path / f"{name}.log")
        started.append(Worker(process, port))
    eventually(lambda: all(leads(worker.port) is not None for worker in started), within=90, what="workers up")
    return started


def _leader(workers: list[Worker]) -> Worker | None:
    return next((worker for worker in workers if leads(worker.port)), None)


def _each_trigger_time_once(drill_log: Path) -> Counter[str]:
    """Runs per job; fails when any job ran twice for one trigger time (or off its trigger times)."""
    done = runs(drill_log)
    per_time = Counter((job, fired) for job, fired, _ in done)
    assert [key for key, count in per_time.items() if count > 1] == [], "a trigger time ran twice"
    for job, fired, _ in done:
        assert datetime.fromisoformat(fired).second % int(job[-2]) == 0, f"{job} ran off its trigger at {fired}"
    return Counter(job for job, _, _ in done)


def test_one_of_two_workers_runs_each_job_once_per_period_and_the_other_takes_over_when_it_dies(
    settings: Settings, tmp_path: Path, db: object
) -> None:
    drill_log = tmp_path / "drill.log"
    workers = _workers(settings, tmp_path)
    try:
        leader = eventually(lambda: _leader(workers), within=10, what="a worker leads")
        standby = next(worker for worker in workers if worker is not leader)
        for worker in workers:  # the sequencer's backlog, read when scraped; the business figures are the API's
            metrics = scrape(worker.port) or ""
            assert sample(metrics, "opscenter_audit_seal_lag_seconds") is not None
            assert sample(metrics, "opscenter_audit_unsealed_events") is not None
            assert sample(metrics, "opscenter_tickets_open", priority="P1", state="new") is None
        started = time.monotonic()
        time.sleep(5)
        assert [leads(worker.port) for worker in workers].count(True) == 1, "exactly one leader, all along"
        led_for = time.monotonic() - started
        per_job = _each_trigger_time_once(drill_log)
        assert {pid for _, _, pid in runs(drill_log)} == {leader.process.pid}, "only the leader runs jobs"
        for job in TRIGGERS:
            assert per_job[job] >= led_for // int(job[-2]) - 1, f"{job}: {per_job[job]} runs in {led_for:.1f} s"

        leader.process.kill()  # a crash: no goodbye to the database
        died = time.monotonic()
        eventually(lambda: leads(standby.port), within=POLL_SECONDS + 10, what="the standby took over")
        takeover = time.monotonic() - died
        eventually(
            lambda: any(pid == standby.process.pid for _, _, pid in runs(drill_log)),
            within=10,
            what="the new leader ran a job",
        )
    finally:
        for worker in workers:
            worker.process.stop()

    assert takeover <= POLL_SECONDS + 3, f"took {takeover:.1f} s; the bound is one poll once the lock is free"
    _each_trigger_time_once(drill_log)  # no trigger time served by both
    assert "leads" in standby.process.output()
