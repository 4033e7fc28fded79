"""What a seed function is: it builds objects through the API and names their ids by path parameter."""

from collections.abc import Callable

from tests.conftest import ApiFactory
from tests.factories import World

# path parameter name (as in the OpenAPI document) → values that name real objects
Known = dict[str, list[str]]
Seed = Callable[[ApiFactory, World], Known]
