"""Who hears what: the roles an event concerns, a department only of its own objects; each person's list, unread
first to act on, marked read one by one or all at once, in cursor pages; muted kinds are not heard."""

from opscenter.db import Database
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import Identity, World
from tests.operations.tickets import steps as tickets
from tests.opscenter.notifications.conftest import run_worker


def kinds(api: ApiFactory, who: Identity, **params: str) -> list[str]:
    """The kinds of the ticket notifications ``who`` has (the setup's purchase and contract ones aside)."""
    items = api.as_(who).get("/api/v1/notifications", params=params).json()["items"]
    return [item["kind"] for item in items if item["kind"].startswith("ticket")]


def test_a_p2_ticket_is_heard_by_the_operations_center_and_its_steps_by_its_department_alone(
    world: World, api: ApiFactory, db: Database, settings: Settings
) -> None:
    instance = tickets.instance(api, world)
    ticket = tickets.open_ticket(api, world.department, instance, priority="P2")
    run_worker(db, settings)
    assert kinds(api, world.operator) == ["ticket_opened"]
    assert kinds(api, world.department) == []  # they opened it

    tickets.act(api, world.operator, ticket, "acknowledge")
    run_worker(db, settings)
    assert kinds(api, world.department) == ["ticket_acknowledged"]
    assert kinds(api, world.department_b) == []  # another department's ticket: never heard of
    assert kinds(api, world.bureau) == []
    assert ticket["number"] in api.as_(world.department).get("/api/v1/notifications").json()["items"][0]["title"]


def test_unread_mark_read_and_read_all(world: World, api: ApiFactory, db: Database, settings: Settings) -> None:
    instance = tickets.instance(api, world)
    for _ in range(3):
        tickets.open_ticket(api, world.department, instance, priority="P1")
    run_worker(db, settings)
    operator = api.as_(world.operator)
    first_page = operator.get("/api/v1/notifications", params={"limit": "2", "unread": "true"}).json()
    assert len(first_page["items"]) == 2
    assert first_page["next_cursor"]
    rest = operator.get("/api/v1/notifications", params={"unread": "true", "cursor": first_page["next_cursor"]})
    assert len(rest.json()["items"]) == 1

    one = first_page["items"][0]["id"]
    marked = operator.post(f"/api/v1/notifications/{one}/read")
    assert marked.status_code == 200
    assert marked.json()["read_at"] is not None
    assert len(kinds(api, world.operator, unread="true")) == 2
    assert api.as_(world.department).post(f"/api/v1/notifications/{one}/read").status_code == 404  # not theirs
    assert operator.post("/api/v1/notifications/read-all").json() == {"marked": 2}
    assert kinds(api, world.operator, unread="true") == []
    assert len(kinds(api, world.operator, unread="false")) == 3


def test_a_muted_kind_is_not_heard(world: World, api: ApiFactory, db: Database, settings: Settings) -> None:
    muted = api.as_(world.operator).put(
        "/api/v1/notification-preferences/me", {"channels": [], "muted_kinds": ["ticket_opened"]}
    )
    assert muted.status_code == 200, muted.text
    instance = tickets.instance(api, world)
    tickets.open_ticket(api, world.department, instance, priority="P1")
    run_worker(db, settings)
    assert kinds(api, world.operator) == []
