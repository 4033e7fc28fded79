from collections.abc import Iterator

import pytest

from tests.prometheus import Prometheus, running
from tests.sla import october


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """One real Prometheus per test session (per xdist worker), holding October 2026 for every SLA test."""
    root = tmp_path_factory.mktemp("prometheus")
    with running(root, october.write(root / "october.om")) as server:
        yield server
