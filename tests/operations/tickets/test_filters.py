"""The ticket list's enum filters repeat and mean OR, as every list's do."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import act, open_ticket


def test_repeated_status_and_priority_filters_keep_tickets_matching_any_value(api: ApiFactory, world: World) -> None:
    instance = steps.instance(api, world)
    new = open_ticket(api, world.department, instance, "P1")
    acknowledged = act(api, world.operator, open_ticket(api, world.department, instance, "P2"), "acknowledge")
    in_progress = steps.in_progress(api, world, open_ticket(api, world.department, instance, "P3"))

    def listed(*pairs: tuple[str, str]) -> set[str]:
        page = api.as_(world.department).get(steps.TICKETS, params=list(pairs))
        assert page.status_code == 200, page.text
        return {ticket["id"] for ticket in page.json()["items"]}

    assert listed(("status", "new"), ("status", "acknowledged")) == {new["id"], acknowledged["id"]}
    assert listed(("status", "in_progress")) == {in_progress["id"]}
    assert listed(("priority", "P1"), ("priority", "P3")) == {new["id"], in_progress["id"]}
    both = listed(("status", "new"), ("status", "in_progress"), ("priority", "P3"), ("priority", "P2"))
    assert both == {in_progress["id"]}, "filters of different names still combine with AND"
