"""The demo's tests run the real command on a database of their own."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import MIGRATIONS
from opscenter.settings import Settings
from tests.conftest import make_settings
from tests.support import postgres_database


@pytest.fixture
def demo_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of the suite's kind, migrated, apart from the suite's own."""
    if backend == "sqlite":
        settings = make_settings(f"sqlite:///{tmp_path / 'demo.db'}")
        MIGRATIONS.upgrade(settings)
        yield settings
        return
    with postgres_database("opscenter_demo") as url:
        settings = make_settings(url)
        MIGRATIONS.upgrade(settings)
        yield settings
