"""Permission rows: tickets. Departments open and confirm, the operations center works them, everyone in the
business reads (a department its own)."""

import uuid
from collections.abc import Callable
from typing import Any

from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.tickets import steps
from tests.permissions.table import DEPARTMENT, OPERATOR, READERS, Prepared, Row, only

Walk = Callable[[ApiFactory, World, dict[str, Any]], object]


def _ticket(walk: Walk | None = None, body: Any = None) -> Callable[[World, ApiFactory], Prepared]:
    """A P1 ticket of department A, walked to the state the action starts from."""

    def prepare(world: World, api: ApiFactory) -> Prepared:
        ticket = steps.open_ticket(api, world.department, steps.instance(api, world))
        if walk is not None:
            walk(api, world, ticket)
        sent = body(world) if callable(body) else body
        return Prepared(params={"ticket_id": ticket["id"]}, body=sent, etag_of=steps.path(ticket))

    return prepare


def _new_ticket(world: World, api: ApiFactory) -> Prepared:
    instance = steps.instance(api, world)
    return Prepared(body=steps.body(instance), headers={"Idempotency-Key": str(uuid.uuid4())})


def _acknowledged(api: ApiFactory, world: World, ticket: dict[str, Any]) -> None:
    steps.act(api, world.operator, ticket, "acknowledge")


def _pending(api: ApiFactory, world: World, ticket: dict[str, Any]) -> None:
    steps.in_progress(api, world, ticket)
    steps.act(api, world.operator, ticket, "pend", {"question": "请提供截图。"})


def _closed(api: ApiFactory, world: World, ticket: dict[str, Any]) -> None:
    steps.resolved(api, world, ticket)
    steps.act(api, world.department, ticket, "close")


PARTIES = (DEPARTMENT, OPERATOR)
T = "/api/v1/tickets/{ticket_id}"

ROWS: list[Row] = [
    Row("POST", "/api/v1/tickets", only(201, *PARTIES), _new_ticket),
    Row("GET", "/api/v1/tickets", only(200, *READERS)),
    Row("GET", "/api/v1/tickets/export", only(200, *READERS)),
    Row("GET", T, only(200, *READERS), _ticket()),
    Row("GET", f"{T}/history", only(200, *READERS), _ticket()),
    Row("GET", f"{T}/comments", only(200, *READERS), _ticket()),
    Row("POST", f"{T}/comments", only(201, *PARTIES), _ticket(body={"body": "请尽快处理。"})),
    # the operations center works the ticket
    Row("POST", f"{T}/acknowledge", only(200, OPERATOR), _ticket()),
    Row("POST", f"{T}/start", only(200, OPERATOR), _ticket(_acknowledged)),
    Row("POST", f"{T}/pend", only(200, OPERATOR), _ticket(steps.in_progress, {"question": "请提供截图。"})),
    Row("POST", f"{T}/resume", only(200, *PARTIES), _ticket(_pending)),
    Row("POST", f"{T}/resolve", only(200, OPERATOR), _ticket(steps.in_progress, {"note": "已修复。"})),
    Row(
        "POST",
        f"{T}/assign",
        only(200, OPERATOR),
        _ticket(body=lambda world: {"assignee_id": str(world.operator.user_id)}),
    ),
    Row("POST", f"{T}/reprioritize", only(200, OPERATOR), _ticket(body={"priority": "P2"})),
    # the department confirms, reopens, and says how satisfied it was
    Row("POST", f"{T}/close", only(200, DEPARTMENT), _ticket(steps.resolved)),
    Row("POST", f"{T}/reopen", only(200, DEPARTMENT), _ticket(steps.resolved, {"reason": "又出现了。"})),
    Row("POST", f"{T}/satisfaction", only(200, DEPARTMENT), _ticket(_closed, {"score": 5})),
]
