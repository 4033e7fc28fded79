"""``get_visible``: the row the actor may see, locked when asked, else 404 exactly as a missing one."""

import threading
import time
import uuid

import pytest
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.budgets import service as budgets
from contracts.budgets.models import Budget
from opscenter.db import Database
from opscenter.errors import NotFound
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from opscenter.scoping import get_visible
from tests.conftest import ApiFactory
from tests.factories import Identity, World


def _actor(who: Identity, kind: OrgKind) -> Actor:
    return Actor(who.user_id, who.user_name, who.organization_id, kind, who.role, "test")


def _own_budgets(query: SelectOfScalar[Budget], actor: Actor) -> SelectOfScalar[Budget]:
    return query.where(Budget.department_id == actor.required_organization_id) if actor.is_department else query


def _budget(db: Database, department_id: uuid.UUID, amount_fen: int = 100_000_00) -> uuid.UUID:
    with db.transaction(write=True) as session:
        budget = Budget(department_id=department_id, fiscal_year=2027, amount_fen=amount_fen)
        session.add(budget)
        session.flush()
        return budget.id


def _refusal(call: object) -> str:
    with pytest.raises(NotFound) as refused:
        call()  # type: ignore[operator]
    return refused.value.detail


def test_another_departments_row_is_refused_as_a_missing_one(db: Database, world: World) -> None:
    budget_id = _budget(db, world.department.organization_id)
    own, other = _actor(world.department, OrgKind.DEPARTMENT), _actor(world.department_b, OrgKind.DEPARTMENT)
    with db.transaction(write=False) as session:
        assert budgets.get_budget(session, budget_id, actor=own).id == budget_id
        hidden = _refusal(lambda: budgets.get_budget(session, budget_id, actor=other))
        missing = _refusal(lambda: budgets.get_budget(session, uuid.uuid4(), actor=other))
        locked = _refusal(
            lambda: get_visible(
                session, Budget, budget_id, actor=other, scope=_own_budgets, noun="budget", for_update=True
            )
        )
    assert hidden == missing == locked == "No budget with this id."


def test_over_http_another_departments_object_answers_the_missing_ones_404_byte_for_byte(
    db: Database, world: World, api: ApiFactory
) -> None:
    budget_id = _budget(db, world.department.organization_id)
    other = api.as_(world.department_b)
    hidden, missing = other.get(f"/api/v1/budgets/{budget_id}"), other.get(f"/api/v1/budgets/{uuid.uuid4()}")
    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
    assert hidden.status_code == 404
    assert api.as_(world.department).get(f"/api/v1/budgets/{budget_id}").status_code == 200


@pytest.mark.postgresql_only  # SQLite has no row locks: its write transactions wait for each other as a whole
def test_a_locked_read_waits_for_the_lock_holder_and_decides_on_what_it_committed(db: Database, world: World) -> None:
    budget_id = _budget(db, world.department.organization_id, amount_fen=100_00)
    bureau = _actor(world.bureau, OrgKind.BUREAU)
    assert bureau.role == Role.BUREAU
    holder, waiter = db.session(write=True), db.session(write=True)
    try:
        held = get_visible(holder, Budget, budget_id, actor=bureau, scope=_own_budgets, noun="budget", for_update=True)
        # The waiter read the row before (unlocked reads never wait): its session holds the old amount.
        read_before = waiter.exec(select(Budget).where(Budget.id == budget_id)).one()
        assert read_before.amount_fen == 100_00
        seen: list[int] = []

        def lock_it() -> None:
            row = get_visible(
                waiter, Budget, budget_id, actor=bureau, scope=_own_budgets, noun="budget", for_update=True
            )
            seen.append(row.amount_fen)

        thread = threading.Thread(target=lock_it)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the second locked read waits while the first holds the row"
        assert seen == []
        held.amount_fen = 250_00
        Database.finish(holder, commit=True)
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert seen == [250_00], "once the lock is free the step decides on the row as committed, not as read before"
        assert read_before.amount_fen == 250_00, "the very object the session read before"
    finally:
        holder.close()
        waiter.close()
