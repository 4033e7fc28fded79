"""Fixtures: the suite runs once per database (``--db sqlite`` or ``--db postgresql``)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import MIGRATIONS
from opscenter.app import create_app
from opscenter.db import Database
from opscenter.settings import LogLevel, Settings
from tests import factories
from tests.support import METRICS_TOKEN, UNREACHED_RATE_LIMITS, Api, RunningServer, postgres_database, wipe


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database to run against")
    parser.addoption(
        "--fuzz-nightly",
        action="store_true",
        default=os.environ.get("OPSCENTER_FUZZ_NIGHTLY", "") not in ("", "0"),
        help="tests/fuzz with the nightly budget: the coverage phase, many examples, a random seed",
    )
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=None,
        help="Schemathesis examples per operation (default 3; nightly 100)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: a PostgreSQL feature; deselected in the SQLite run")
    config.addinivalue_line(
        "markers",
        "once: needs a server but what it checks does not depend on the database behind it (the API documentation "
        "pages, the role guards of the permission table, the console in a browser); left out of the PostgreSQL run "
        "as the tests that never reach the database are",
    )


def _uses_the_run_database(item: pytest.Item) -> bool:
    """Whether the test reaches the run's database: through ``database_url`` (``settings``, ``db``, ``api``, …) or
    by asking which one it is (``backend``)."""
    names = getattr(item, "fixturenames", ())
    return ("database_url" in names or "backend" in names) and item.get_closest_marker("once") is None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The SQLite run leaves out the PostgreSQL-only tests; the PostgreSQL run leaves out the tests that never reach
    the run's database (pure functions, the rule files, the architecture, commands on a database of their own):
    they ran in the SQLite run, and the same code run again finds nothing new."""
    if config.getoption("--db") == "postgresql":
        kept = [item for item in items if _uses_the_run_database(item)]
    else:
        kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    kept_ids = set(map(id, kept))
    deselected = [item for item in items if id(item) not in kept_ids]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'opscenter.db'}"
    else:
        with postgres_database("opscenter_test") as url:
            yield url


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "log_level": LogLevel.WARNING,
        "metrics_token": METRICS_TOKEN,
        # Webhook and robot secrets are stored encrypted under this key (tests only).
        "notifications_secret_key": "F2wWEmwQub1f5rtEerMeF8uvz-Do6QpKV7683RgRyeA=",
        # Counted in every test, never reached: the suite sends thousands of requests, wrong keys among them, from
        # 127.0.0.1. tests/opscenter/ratelimits sets real limits.
        **UNREACHED_RATE_LIMITS,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    settings = make_settings(database_url)
    MIGRATIONS.upgrade(settings)  # the schema comes from the migrations, never from create_all
    return settings


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[RunningServer]:
    with RunningServer(create_app(settings)) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "db" in request.fixturenames:
        wipe(request.getfixturevalue("db"))


@pytest.fixture
def world(db: Database) -> factories.World:
    return factories.world(db)


@pytest.fixture
def api(server: RunningServer, world: factories.World) -> Iterator["ApiFactory"]:
    factory = ApiFactory(server.base_url)
    yield factory
    factory.close()


class ApiFactory:
    """``api.as_(world.bureau)`` gives a client acting as that identity."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._clients: list[Api] = []

    def as_(self, who: factories.Identity | None) -> Api:
        client = Api(self.base_url, who.key if who else None)
        self._clients.append(client)
        return client

    def with_key(self, key: str) -> Api:
        client = Api(self.base_url, key)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scratch.db'}"
