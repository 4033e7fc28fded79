"""The permission table: every route × every role → the status that role gets. The rows live beside this
module, one file per domain; ``ROWS`` joins them, and tests/test_permissions.py walks the app against it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opscenter.identity import guards
from opscenter.identity.models import Role
from tests.conftest import ApiFactory
from tests.factories import World

ADMIN, BUREAU, OPERATOR, DEPARTMENT, AUDITOR = (
    Role.ADMIN,
    Role.BUREAU,
    Role.OPERATOR,
    Role.DEPARTMENT,
    Role.AUDITOR,
)


@dataclass
class Prepared:
    """What a row needs to be sent: path parameters, a body, the object whose ETag goes in If-Match, any
    other headers (e.g. Idempotency-Key), and query parameters a route requires (e.g. period)."""

    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    etag_of: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


Prepare = Callable[[World, ApiFactory], Prepared]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[Role, int]
    prepare: Prepare = lambda world, api: Prepared()

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def only(status: int, *roles: Role, **others: int) -> dict[Role, int]:
    """``status`` for ``roles``, 403 for every other role, unless ``others`` (by role value) says otherwise."""
    table = {role: (status if role in roles else 403) for role in Role}
    table.update({Role(name): code for name, code in others.items()})
    return table


# The house's role sets, under the names the rows read best with.
EVERYONE = guards.EVERYONE
READERS = guards.BUSINESS_ROLES
