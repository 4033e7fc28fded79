"""The outbox: every workflow step someone must act on writes its event with the change, and only with it."""

import uuid

import pytest
from sqlmodel import col, select

from contracts.purchasing import flows as purchasing
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrgKind, Role
from opscenter.notifications.models import NotificationEvent, NotificationKind
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World
from tests.operations.tickets import steps as tickets

K = NotificationKind


def events(db: Database) -> list[NotificationEvent]:
    with db.transaction(write=False) as session:
        return list(session.exec(select(NotificationEvent).order_by(col(NotificationEvent.id))).all())


def test_a_purchase_request_tells_of_its_submission_and_decision(world: World, api: ApiFactory, db: Database) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "1000000.00")
    request = steps.approved_request(api, world, world.department, steps.item(service))
    returned = steps.draft_request(api, world.department, steps.item(service), title="退回的申请")
    path = f"/api/v1/purchase-requests/{returned['id']}"
    steps.act(api, world.department, path, "submit")
    steps.act(api, world.bureau, path, "return", {"comment": "请补充数量依据"})

    written = [(event.kind, event.object_id) for event in events(db)]
    assert written == [
        (K.PURCHASE_SUBMITTED, request["id"]),
        (K.PURCHASE_APPROVED, request["id"]),
        (K.PURCHASE_SUBMITTED, returned["id"]),
        (K.PURCHASE_RETURNED, returned["id"]),
    ]
    last = events(db)[-1]
    assert last.department_ids == [str(world.department.organization_id)]
    assert "请补充数量依据" in last.body
    assert last.actor_name == world.bureau.user_name


def test_a_drafted_contract_waits_for_the_second_approver(world: World, api: ApiFactory, db: Database) -> None:
    _, contract = steps.standard_contract(api, world)
    awaiting = [event for event in events(db) if event.kind == K.CONTRACT_AWAITING_APPROVAL]
    assert [event.object_id for event in awaiting] == [contract["id"]]
    assert awaiting[0].department_ids == []  # the bureau's business alone


def test_urgent_tickets_are_announced_at_once_and_routine_ones_are_not(
    world: World, api: ApiFactory, db: Database
) -> None:
    instance = tickets.instance(api, world)
    urgent = tickets.open_ticket(api, world.department, instance, priority="P2")
    tickets.open_ticket(api, world.department, instance, priority="P4")
    tickets.act(api, world.operator, urgent, "acknowledge")

    ticket_events = [(event.kind, event.object_id) for event in events(db) if event.object_type == "ticket"]
    assert ticket_events == [(K.TICKET_OPENED, urgent["id"]), (K.TICKET_ACKNOWLEDGED, urgent["id"])]


def test_a_change_that_rolls_back_leaves_no_event(world: World, api: ApiFactory, db: Database) -> None:
    service = steps.catalog_service(api, world)
    request = steps.draft_request(api, world.department, steps.item(service))
    actor = Actor(
        world.department.user_id,
        world.department.user_name,
        world.department.organization_id,
        OrgKind.DEPARTMENT,
        Role.DEPARTMENT,
        "test-rollback",
    )

    def submit_then_fail() -> None:
        with db.transaction(write=True) as session:
            purchasing.submit(session, uuid.UUID(request["id"]), actor=actor, expected_version=request["version"])
            assert session.exec(select(NotificationEvent)).all()  # written with the change…
            raise RuntimeError("the request fails after the step")

    with pytest.raises(RuntimeError):
        submit_then_fail()
    assert events(db) == []  # …and gone with it
    assert api.as_(world.department).get(f"/api/v1/purchase-requests/{request['id']}").json()["status"] == "draft"
