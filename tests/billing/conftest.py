from collections.abc import Iterator

import pytest

from tests.billing.steps import ChosenInputs, choose


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChosenInputs]:
    yield from choose(monkeypatch)
