"""The sequencer: writers never wait for each other on the trail, and every committed event is sealed once."""

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from opscenter.audit import sequencer, service
from opscenter.audit.chain import event_hash, verify_chain
from opscenter.audit.jobs import SEAL_JOB, VERIFY_JOB
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrgKind
from opscenter.pagination import PageRequest
from opscenter.scheduler import _try_job_lock, run_job
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import ApiFactory
from tests.factories import SETUP, World
from tests.opscenter.audit.steps import as_intruder, event_ids, opscenter_audit, queued, seals
from tests.support import RunningServer

T = TypeVar("T")
_ALL = PageRequest(limit=1000, cursor_key=b"test-cursor-key")
_NONE = service.EventFilter()


def _audited_write(session: Session, name: str) -> Organization:
    """What every domain does: change a row and audit it in the same transaction."""
    organization = Organization(name=name, kind=OrgKind.DEPARTMENT)
    session.add(organization)
    session.flush()
    service.record_create(session, actor=SETUP, action="organization.create", row=organization)
    session.flush()
    return organization


def _write(db: Database, name: str) -> None:
    with db.transaction(write=True) as session:
        _audited_write(session, name)


def _assert_sealed_once_without_gaps(db: Database) -> None:
    chain = seals(db)
    assert [link.seq for link in chain] == list(range(1, len(chain) + 1)), "seq from 1, no gaps"
    assert {link.event_id for link in chain} == event_ids(db), "every event sealed, each once"
    assert queued(db) == 0
    report = verify_chain(db)
    assert report.intact, report.problems
    assert (report.checked, report.unsealed) == (len(chain), 0)


class _Rollback(Exception):
    pass


def test_events_of_a_rolled_back_transaction_never_appear(db: Database) -> None:
    _write(db, "甲局")

    def refused_after_auditing() -> None:
        with db.transaction(write=True) as session:
            _audited_write(session, "乙局")
            raise _Rollback("a later step of the request failed")

    with pytest.raises(_Rollback):
        refused_after_auditing()
    _write(db, "丙局")
    assert seal_backlog(db) == 2
    _assert_sealed_once_without_gaps(db)
    with db.transaction(write=False) as session:
        names = [event.changes["name"][1] for event in service.list_events(session, page=_ALL, filters=_NONE).rows]
    assert names == ["丙局", "甲局"]


@pytest.mark.postgresql_only  # on SQLite an open writer holds the write lock, so no sequencer runs beside it
def test_the_sequencer_seals_only_what_has_committed(db: Database) -> None:
    _write(db, "甲局")
    late = db.session(write=True)
    abandoned = db.session(write=True)
    try:
        _audited_write(late, "迟到局")
        _audited_write(abandoned, "放弃局")
        assert seal_backlog(db) == 1, "writers in flight neither block the sequencer nor get sealed"
        Database.finish(late, commit=True)
    finally:
        abandoned.close()  # rolls back
    assert seal_backlog(db) == 1, "the late event is sealed next, after the one sealed before it"
    _assert_sealed_once_without_gaps(db)
    with db.transaction(write=False) as session:
        names = [event.changes["name"][1] for event in service.list_events(session, page=_ALL, filters=_NONE).rows]
    assert "放弃局" not in names


def test_concurrent_audited_writes_all_get_sealed_without_gaps(
    world: World, api: ApiFactory, db: Database, settings: Settings
) -> None:
    """200 audited writes from 8 threads over HTTP while the sequencer job runs beside them."""
    writers, per_writer = 8, 25
    clients = [api.as_(world.admin) for _ in range(writers)]
    writing = threading.Event()
    writing.set()
    outcomes: list[str] = []

    def sequencer_job() -> None:
        while writing.is_set():
            outcomes.append(run_job(db, SEAL_JOB, system_actor=Actor.of_job))

    def writer(n: int) -> list[int]:
        statuses = []
        for m in range(per_writer):
            body = {"name": f"并发部门{n}-{m}", "kind": "department"}
            statuses.append(clients[n].post("/api/v1/organizations", body).status_code)
        return statuses

    job = threading.Thread(target=sequencer_job)
    job.start()
    try:
        statuses = _in_threads(*(partial(writer, n) for n in range(writers)))
    finally:
        writing.clear()
        job.join()
    assert statuses == [[201] * per_writer] * writers
    assert "failed" not in outcomes
    seal_backlog(db)
    assert len(seals(db)) == 18 + writers * per_writer
    _assert_sealed_once_without_gaps(db)
    verified = opscenter_audit(settings, "verify")
    assert verified.returncode == 0, verified.stderr


def test_two_sequencers_racing_seal_each_event_once(db: Database) -> None:
    with db.transaction(write=True) as session:
        for n in range(300):
            _audited_write(session, f"部门{n}")
    # Small batches, so the two interleave transaction by transaction instead of one doing it all.
    results = _in_threads(partial(seal_backlog, db, limit=40), partial(seal_backlog, db, limit=40))
    assert sum(results) == 300
    _assert_sealed_once_without_gaps(db)


def test_a_sequencer_run_twice_seals_nothing_more(db: Database) -> None:
    for n in range(3):
        _write(db, f"部门{n}")
    assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "ok"
    before = seals(db)
    assert len(before) == 3
    assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "ok"
    assert seal_backlog(db) == 0
    assert seals(db) == before


@pytest.mark.postgresql_only  # SQLite serializes writers with BEGIN IMMEDIATE instead of advisory locks
def test_the_seal_job_skips_while_another_worker_runs_it(db: Database) -> None:
    _write(db, "甲局")
    with db.transaction(write=True) as holder:
        assert _try_job_lock(holder, SEAL_JOB.id)
        assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "skipped"
    assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "ok"
    _assert_sealed_once_without_gaps(db)


def test_a_crash_mid_seal_loses_nothing_and_doubles_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.transaction(write=True) as session:
        for n in range(25):
            _audited_write(session, f"部门{n}")
    hashed: list[int] = []
    real_hash = event_hash

    def crash_on_the_twentieth(*args: object, **kwargs: int | str) -> str:
        hashed.append(1)
        if len(hashed) == 20:
            raise RuntimeError("the worker lost its database connection")
        return real_hash(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sequencer, "SEAL_BATCH", 8)  # two batches are already written when it crashes
    monkeypatch.setattr(sequencer, "event_hash", crash_on_the_twentieth)
    assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "failed"
    assert seals(db) == []
    assert queued(db) == 25

    monkeypatch.setattr(sequencer, "event_hash", real_hash)
    assert run_job(db, SEAL_JOB, system_actor=Actor.of_job) == "ok"
    assert len(seals(db)) == 25
    _assert_sealed_once_without_gaps(db)


def test_events_of_one_transaction_are_sealed_in_the_order_they_were_written(db: Database) -> None:
    with db.transaction(write=True) as session:
        written = [_audited_write(session, f"部门{n:03}").name for n in range(100)]
    seal_backlog(db)
    with db.transaction(write=False) as session:
        events = service.list_events(session, page=_ALL, filters=_NONE).rows
    by_seq = sorted(events, key=lambda event: event.seq or 0)
    assert [event.changes["name"][1] for event in by_seq] == written


def test_a_batch_of_events_is_queued_whole_and_sealed_in_its_order(db: Database) -> None:
    """A bulk change (an inventory of assets taken over) audits each row in one statement pair."""
    with db.transaction(write=True) as session:
        organizations = [_audited_write(session, f"单位{n:03}") for n in range(3)]
        renamed = [(organization.id, {"name": [organization.name, f"{organization.name}（更名）"]})
                   for organization in organizations]  # fmt: skip
        ids = service.append_many(
            session, actor=SETUP, action="organization.rename", object_type="organization", changes=renamed
        )
    assert len(ids) == 3
    assert ids == sorted(ids), "time-ordered ids: sealed in the order written"
    assert queued(db) == 6
    with db.transaction(write=True) as session:
        assert service.append_many(session, actor=SETUP, action="x.y", object_type="organization", changes=[]) == []
    seal_backlog(db)
    with db.transaction(write=False) as session:
        events = service.list_events(session, page=_ALL, filters=service.EventFilter(action="organization.rename"))
    by_seq = sorted(events.rows, key=lambda event: event.seq or 0)
    assert [event.id for event in by_seq] == ids
    assert [event.object_id for event in by_seq] == [str(organization.id) for organization in organizations]
    assert by_seq[0].changes == {"name": ["单位000", "单位000（更名）"]}
    assert by_seq[0].actor_name == SETUP.user_name
    _assert_sealed_once_without_gaps(db)


def test_the_nightly_verification_sets_its_gauges(db: Database) -> None:
    for n in range(3):
        _write(db, f"部门{n}")
    seal_backlog(db)
    assert run_job(db, VERIFY_JOB, system_actor=Actor.of_job) == "ok"
    assert REGISTRY.get_sample_value("opscenter_audit_chain_intact") == 1
    assert REGISTRY.get_sample_value("opscenter_audit_events_verified") == 3

    as_intruder(db, "UPDATE audit_event SET actor_name = 'someone else'")
    assert run_job(db, VERIFY_JOB, system_actor=Actor.of_job) == "ok"
    assert REGISTRY.get_sample_value("opscenter_audit_chain_intact") == 0


def _backlog_metrics(server: RunningServer) -> dict[str, float]:
    time.sleep(0.3)  # past the read that both gauges of one scrape share
    text = loopback.get(f"{server.base_url}/metrics").text
    wanted = {"opscenter_audit_unsealed_events", "opscenter_audit_seal_lag_seconds"}
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in wanted
    }


def test_metrics_show_the_sealing_backlog_and_its_lag(world: World, db: Database, server: RunningServer) -> None:
    waiting = _backlog_metrics(server)
    assert waiting["opscenter_audit_unsealed_events"] == 18
    assert waiting["opscenter_audit_seal_lag_seconds"] > 0
    seal_backlog(db)
    assert _backlog_metrics(server) == {"opscenter_audit_unsealed_events": 0, "opscenter_audit_seal_lag_seconds": 0}


def _in_threads(*calls: Callable[[], T]) -> list[T]:
    """Start every call at once, each in its own thread; their results, in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]
