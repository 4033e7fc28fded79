"""A server whose settings let webhooks reach the receivers the tests start on 127.0.0.1 (http, loopback), and
the worker's steps run by hand."""

from collections.abc import Iterator
from typing import Any

import pytest

from opscenter.app import create_app
from opscenter.db import Database
from opscenter.notifications.jobs import deliver_due, fan_out_pending, http_client
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.support import RunningServer

LAB = {
    "webhook_allow_http": True,
    "webhook_allow_private": True,  # loopback only ever: the receivers these tests start
    "delivery_backoff_seconds": 0.0,
    "delivery_timeout_seconds": 1.0,
    "delivery_max_attempts": 3,
}


@pytest.fixture(scope="module")
def lab_settings(database_url: str, settings: Settings) -> Settings:
    return make_settings(database_url, **LAB)


@pytest.fixture(scope="module")
def lab_server(lab_settings: Settings) -> Iterator[RunningServer]:
    with RunningServer(create_app(lab_settings)) as running:
        yield running


@pytest.fixture
def lab(lab_server: RunningServer, world: World) -> Iterator[ApiFactory]:
    factory = ApiFactory(lab_server.base_url)
    yield factory
    factory.close()


def run_worker(db: Database, settings: Settings, **options: Any) -> tuple[int, int]:
    """One run of the dispatch job's steps: fan out, then deliver until nothing is due; (attempts, delivered)."""
    fan_out_pending(db, utcnow())
    with http_client(settings) as client:
        return deliver_due(db, settings, client, worker="test-worker", **options)
