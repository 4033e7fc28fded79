import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, text
from sqlmodel import Session, func, select

from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrganizationCreate, OrgKind
from opscenter.job_runs import last_runs
from opscenter.organizations import service as organizations
from opscenter.scheduler import Job, JobContext, _try_job_lock, run_job


def _create_once(session: Session, context: JobContext[Actor]) -> None:
    """An idempotent job: it creates an organization unless it exists."""
    if organizations.find_organization(session, "由任务创建") is None:
        organizations.create_organization(
            session, OrganizationCreate(name="由任务创建", kind=OrgKind.DEPARTMENT), actor=context.actor
        )


IDEMPOTENT = Job(id="test.create-once", description="test", trigger=IntervalTrigger(hours=1), run=_create_once)


def _audit_count(db: Database) -> int:
    with db.transaction(write=False) as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_a_job_run_twice_does_its_work_once(db: Database) -> None:
    assert run_job(db, IDEMPOTENT, system_actor=Actor.of_job) == "ok"
    assert run_job(db, IDEMPOTENT, system_actor=Actor.of_job) == "ok"
    assert _audit_count(db) == 1
    with db.transaction(write=False) as session:
        event = session.exec(select(AuditEvent)).one()
    assert event.actor_role == "system"
    assert event.actor_name == "job:test.create-once"


def test_a_failing_job_leaves_nothing_behind(db: Database) -> None:
    def create_then_fail(session: Session, context: JobContext[Actor]) -> None:
        _create_once(session, context)
        raise RuntimeError("Prometheus went away")

    failing = Job(id="test.fails", description="test", trigger=IntervalTrigger(hours=1), run=create_then_fail)
    assert run_job(db, failing, system_actor=Actor.of_job) == "failed"
    assert _audit_count(db) == 0


@pytest.mark.postgresql_only  # SQLite serializes writers with BEGIN IMMEDIATE instead of advisory locks
def test_a_job_another_worker_is_running_is_skipped(db: Database) -> None:
    with db.transaction(write=True) as holder:
        assert _try_job_lock(holder, IDEMPOTENT.id)
        assert run_job(db, IDEMPOTENT, system_actor=Actor.of_job) == "skipped"
        holder.execute(text("SELECT 1"))
    assert run_job(db, IDEMPOTENT, system_actor=Actor.of_job) == "ok"
    assert _audit_count(db) == 1


def _write_org(db: Database, name: str, context: JobContext[Actor]) -> None:
    with db.transaction(write=True) as session:
        organizations.create_organization(
            session, OrganizationCreate(name=name, kind=OrgKind.DEPARTMENT), actor=context.actor
        )


def _open_transactions_elsewhere(watcher: Connection) -> list[tuple[str, str]]:
    """PostgreSQL: the (state, query) of this database's sessions with a transaction open, but ``watcher``'s."""
    return [
        (row.state, row.query)
        for row in watcher.execute(
            text(
                "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
        )
    ]


def test_a_job_in_steps_keeps_the_steps_it_committed_when_a_later_one_fails_and_its_run_is_not_recorded(
    db: Database,
) -> None:
    def two_steps(database: Database, context: JobContext[Actor]) -> None:
        _write_org(database, "第一步", context)
        raise RuntimeError("Prometheus went away between the steps")

    job = Job(id="test.steps-fail", description="test", trigger=IntervalTrigger(hours=1), run_steps=two_steps)
    assert run_job(db, job, system_actor=Actor.of_job) == "failed"
    assert _audit_count(db) == 1, "the first step's write and its audit event stay: the job is idempotent by its keys"
    with db.transaction(write=False) as session:
        assert job.id not in last_runs(session), "a failed run is not a run: a new leader runs it again"


def test_a_job_gives_its_work_one_way() -> None:
    with pytest.raises(ValueError, match="run or run_steps"):
        Job(id="test.both", description="test", trigger=IntervalTrigger(hours=1), run=_create_once,
            run_steps=lambda database, context: None)  # fmt: skip
    with pytest.raises(ValueError, match="run or run_steps"):
        Job(id="test.neither", description="test", trigger=IntervalTrigger(hours=1))


@pytest.mark.postgresql_only  # the job's advisory lock; SQLite runs jobs in one leading process
def test_a_job_in_steps_holds_its_lock_with_no_transaction_open_and_a_second_worker_skips_it(db: Database) -> None:
    seen: dict[str, object] = {}

    def between_steps(database: Database, context: JobContext[Actor]) -> None:
        _write_org(database, "第一步", context)
        # here a real job waits on Prometheus: nothing of this process may hold a transaction meanwhile
        with database.engine.connect() as watcher:
            seen["open"] = _open_transactions_elsewhere(watcher)
        seen["second worker"] = run_job(database, job, system_actor=Actor.of_job)
        one_transaction = Job(id=job.id, description="test", trigger=job.trigger, run=_create_once)
        seen["a run-job of the same id"] = run_job(database, one_transaction, system_actor=Actor.of_job)

    job = Job(id="test.steps", description="test", trigger=IntervalTrigger(hours=1), run_steps=between_steps)
    assert run_job(db, job, system_actor=Actor.of_job) == "ok"
    assert seen == {"open": [], "second worker": "skipped", "a run-job of the same id": "skipped"}
    with db.transaction(write=False) as session:
        assert job.id in last_runs(session)
    assert (
        run_job(
            db, Job(id=job.id, description="test", trigger=job.trigger, run=_create_once), system_actor=Actor.of_job
        )
        == "ok"
    )


@pytest.mark.postgresql_only
def test_a_job_in_steps_is_skipped_while_another_worker_runs_it(db: Database) -> None:
    ran: list[bool] = []
    job = Job(id="test.steps-held", description="test", trigger=IntervalTrigger(hours=1),
              run_steps=lambda database, context: ran.append(True))  # fmt: skip
    with db.transaction(write=True) as holder:
        assert _try_job_lock(holder, job.id)
        assert run_job(db, job, system_actor=Actor.of_job) == "skipped"
    assert ran == []
    assert run_job(db, job, system_actor=Actor.of_job) == "ok"
    assert ran == [True]
