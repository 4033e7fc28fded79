import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlmodel import Session, func, select

from opscenter.audit.models import AuditEvent
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrganizationCreate, OrgKind
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
