from collections.abc import Iterator

import pytest

from tests.console.people import Person
from tests.support import RunningServer


@pytest.fixture
def person(server: RunningServer) -> Iterator[Person]:
    browser = Person(server.base_url)
    yield browser
    browser.close()


@pytest.fixture
def other_person(server: RunningServer) -> Iterator[Person]:
    browser = Person(server.base_url)
    yield browser
    browser.close()
