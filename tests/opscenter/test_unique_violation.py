"""A write that loses a race for a unique key is named by table and field on both databases."""

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from contracts.budgets.models import Budget
from opscenter.db import Database
from opscenter.errors import unique_violation
from opscenter.identity.models import Organization, OrgKind
from tests.factories import World


def _lost_race(db: Database, *rows: object) -> IntegrityError:
    def write() -> None:
        with db.transaction(write=True) as session:
            for row in rows:
                session.add(row)
                session.flush()

    with pytest.raises(IntegrityError) as raised:
        write()
    return raised.value


def test_a_duplicate_single_column_key_names_its_column(db: Database) -> None:
    error = _lost_race(
        db,
        Organization(name="市交通运输局", kind=OrgKind.DEPARTMENT),
        Organization(name="市交通运输局", kind=OrgKind.DEPARTMENT),
    )
    assert unique_violation(error) == ("organization", "name")


def test_a_duplicate_composite_key_names_its_last_column(db: Database, world: World) -> None:
    department = world.department.organization_id
    error = _lost_race(
        db,
        Budget(department_id=department, fiscal_year=2028, amount_fen=1),
        Budget(department_id=department, fiscal_year=2028, amount_fen=2),
    )
    assert unique_violation(error) == ("budget", "fiscal_year")


def test_a_missing_reference_is_not_mistaken_for_a_unique_key(db: Database) -> None:
    error = _lost_race(db, Budget(department_id=uuid.uuid4(), fiscal_year=2028, amount_fen=1))
    assert unique_violation(error) is None
