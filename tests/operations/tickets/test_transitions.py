"""The whole transition table: every action from every state (legal → 200, illegal → 409 naming the state),
and every action by every role (admitted → 200, others → 403). One ticket is put into each state directly
in the database, so the table costs one request per cell."""

import uuid
from dataclasses import dataclass
from typing import Any

from operations.tickets.models import Ticket, TicketStatus
from opscenter.db import Database
from opscenter.identity.models import Role
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.tickets import steps

S = TicketStatus
OPEN = (S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.RESOLVED)


@dataclass(frozen=True)
class Action:
    name: str
    roles: tuple[Role, ...]
    from_states: tuple[TicketStatus, ...]
    body: Any = None


def actions(world: World) -> list[Action]:
    return [
        Action("acknowledge", (Role.OPERATOR,), (S.NEW,)),
        Action("start", (Role.OPERATOR,), (S.ACKNOWLEDGED,)),
        Action("pend", (Role.OPERATOR,), (S.IN_PROGRESS,), {"question": "请提供报错截图。"}),
        Action("resume", (Role.OPERATOR, Role.DEPARTMENT), (S.PENDING_CUSTOMER,)),
        Action("resolve", (Role.OPERATOR,), (S.IN_PROGRESS, S.PENDING_CUSTOMER), {"note": "已修复。"}),
        Action("close", (Role.DEPARTMENT,), (S.RESOLVED,)),
        Action("reopen", (Role.DEPARTMENT,), (S.RESOLVED,), {"reason": "问题再次出现。"}),
        Action("assign", (Role.OPERATOR,), OPEN, {"assignee_id": str(world.operator.user_id)}),
        Action("reprioritize", (Role.OPERATOR,), OPEN, {"priority": "P2"}),
        Action("satisfaction", (Role.DEPARTMENT,), (S.CLOSED,), {"score": 4, "comment": "处理及时。"}),
    ]


def put_in(db: Database, ticket_id: str, state: TicketStatus) -> None:
    """The ticket as a walk through the workflow would have left it in ``state``."""
    now = utcnow()
    with db.transaction(write=True) as session:
        ticket = session.get_one(Ticket, uuid.UUID(ticket_id))
        ticket.status = state
        ticket.responded_at = None if state == S.NEW else now
        ticket.paused_since = now if state in (S.PENDING_CUSTOMER, S.RESOLVED) else None
        ticket.resolved_at = now if state == S.RESOLVED else None
        ticket.closed_at = now if state == S.CLOSED else None
        ticket.satisfaction_score = None


def attempt(api: ApiFactory, world: World, ticket: dict[str, Any], action: Action, role: Role) -> Any:
    path = steps.path(ticket)
    etag = api.as_(world.auditor).get(path).headers["ETag"]
    return api.as_(world.by_role(role)).post(f"{path}/{action.name}", json=action.body, headers={"If-Match": etag})


def test_every_action_from_every_state(api: ApiFactory, world: World, db: Database) -> None:
    ticket = steps.open_ticket(api, world.department, steps.instance(api, world))
    wrong = []
    for action in actions(world):
        for state in TicketStatus:
            put_in(db, ticket["id"], state)
            response = attempt(api, world, ticket, action, action.roles[0])
            expected = 200 if state in action.from_states else 409
            if response.status_code != expected:
                wrong.append(f"{action.name} from {state.value}: {response.status_code}, not {expected}")
            elif expected == 409 and f"that is {state.value} ({state.label})" not in response.json()["detail"]:
                wrong.append(f"{action.name} from {state.value}: 409 without naming the state")
    assert wrong == []


def test_every_action_by_every_role(api: ApiFactory, world: World, db: Database) -> None:
    ticket = steps.open_ticket(api, world.department, steps.instance(api, world))
    wrong = []
    for action in actions(world):
        for role in Role:
            put_in(db, ticket["id"], action.from_states[0])
            response = attempt(api, world, ticket, action, role)
            expected = 200 if role in action.roles else 403
            if response.status_code != expected:
                wrong.append(f"{action.name} by {role.value}: {response.status_code}, not {expected}")
    assert wrong == []


def test_an_action_needs_the_version_as_read(api: ApiFactory, world: World) -> None:
    ticket = steps.open_ticket(api, world.department, steps.instance(api, world))
    operator = api.as_(world.operator)
    assert operator.post(f"{steps.path(ticket)}/acknowledge").status_code == 428
    stale = operator.get(steps.path(ticket)).headers["ETag"]
    assert operator.post(f"{steps.path(ticket)}/acknowledge", headers={"If-Match": stale}).status_code == 200
    assert operator.post(f"{steps.path(ticket)}/start", headers={"If-Match": stale}).status_code == 412
