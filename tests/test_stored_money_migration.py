"""Migration 0003 stores each purchase item's estimate; rows that existed before it get the same figures."""

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text

from contracts.catalog import service as catalog
from contracts.catalog.models import CatalogServiceCreate
from contracts.purchasing import service as purchasing
from contracts.purchasing.models import PurchaseRequestIn
from migrations import MIGRATIONS
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from opscenter.settings import Settings
from tests.conftest import make_settings
from tests.factories import SETUP, identity
from tests.support import postgres_database


@pytest.fixture
def scratch_settings(backend: str, tmp_sqlite_url: str) -> Iterator[Settings]:
    if backend == "sqlite":
        yield make_settings(tmp_sqlite_url)
    else:
        with postgres_database("opscenter_scratch") as url:
            yield make_settings(url)


def test_existing_items_get_their_prorated_estimates_when_the_column_arrives(scratch_settings: Settings) -> None:
    MIGRATIONS.upgrade(scratch_settings)
    database = Database(scratch_settings)
    try:
        who = identity(
            database, user_name="chen.jie", role=Role.DEPARTMENT, org_name="卫健委", org_kind=OrgKind.DEPARTMENT
        )
        actor = Actor(who.user_id, who.user_name, who.organization_id, OrgKind.DEPARTMENT, Role.DEPARTMENT, "t")
        with database.transaction(write=True) as session:
            offer = {
                "code": "ECS-4C8G",
                "name": "云服务器",
                "category": "compute",
                "unit": "台/月",
                "list_price": "1500.00",
            }
            service = catalog.create_service(session, CatalogServiceCreate.model_validate(offer), actor=SETUP)
            items = [
                {"service_id": service.id, "quantity": 20, "start_date": "2026-10-10", "end_date": "2026-10-31"},
                {"service_id": service.id, "quantity": 1, "start_date": "2027-01-01", "end_date": "2027-12-31"},
            ]
            body = {"title": "云资源", "items": [{**item, "justification": "上云"} for item in items]}
            purchasing.create_request(session, PurchaseRequestIn.model_validate(body), actor=actor)
        seal_backlog(database)  # downgrading past 0004 refuses unsealed events
        database.dispose()

        command.downgrade(MIGRATIONS.config(scratch_settings), "0002")
        MIGRATIONS.upgrade(scratch_settings)
        with database.engine.connect() as connection:
            stored = connection.execute(text("SELECT estimated_amount_fen FROM purchase_item ORDER BY position"))
            assert [row[0] for row in stored] == [2129032, 1800000]  # DESIGN §5's 21290.32, and 12 × 1500.00
    finally:
        database.dispose()
