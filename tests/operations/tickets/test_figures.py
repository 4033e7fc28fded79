"""The tickets' figures (/metrics and the console's overview): the open tickets' clocks counted in the one GROUP BY
that also counts them by state and age, and the breaches of last month and this month in one statement."""

from datetime import date, timedelta

import pytest

from operations.tickets import figures, jobs
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import act, beijing, open_ticket

NOW = beijing(2026, 3, 2, 20)  # P1 and P2 run on the 24x7 clock: response 15/30 min, resolution 240/480 min


def test_open_tickets_clocks_count_late_response_late_resolution_and_due_within_the_hour(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, NOW - timedelta(hours=2)):
        open_ticket(api, world.department, instance, "P1")  # new, response due 2 h ago: late response
    for opened, priority in ((NOW - timedelta(hours=5), "P1"), (NOW - timedelta(hours=3, minutes=30), "P1")):
        with steps.tickets_clock(monkeypatch, opened):
            acknowledged = open_ticket(api, world.department, instance, priority)
            act(api, world.operator, acknowledged, "acknowledge")
    with steps.tickets_clock(monkeypatch, NOW - timedelta(hours=1)):
        open_ticket(api, world.department, instance, "P2")  # new, response due 30 min ago; resolution in 7 h
    with db.transaction(write=False) as session:
        counted = figures.open_tickets(session, NOW)
    assert +counted.by_state == {("P1", "new"): 1, ("P1", "acknowledged"): 2, ("P2", "new"): 1}
    assert +counted.late_response == {"P1": 1, "P2": 1}
    assert +counted.late_resolution == {"P1": 1}  # opened 5 h ago: due 1 h ago
    assert +counted.due_within_hour == {"P1": 1}  # opened 3 h 30 ago: due in 30 min
    assert +counted.by_age == {("P1", "lt_4h"): 2, ("P1", "4h_1d"): 1, ("P2", "lt_4h"): 1}


def test_breaches_are_counted_by_kind_in_the_month_their_due_time_fell(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 31, 23, 50)):
        open_ticket(api, world.department, instance, "P1")  # response due 00:05 on 1 April: April's
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 31, 12)):
        open_ticket(api, world.department, instance, "P1")  # response due in March, resolution at 16:00
    jobs.sweep(db, JobContext(now=beijing(2026, 4, 1, 10), actor=Actor.system("job:tickets.sweep", "test")))
    with db.transaction(write=False) as session:
        in_april = figures.breaches_by_month(session, date(2026, 4, 15))
        in_may = figures.breaches_by_month(session, date(2026, 5, 15))
    assert in_april == {
        ("response", "last"): 1,
        ("resolution", "last"): 1,
        ("response", "this"): 1,
        ("resolution", "this"): 1,  # the first one's resolution was due at 03:50 on 1 April
    }
    assert in_may == {
        ("response", "last"): 1,
        ("resolution", "last"): 1,
        ("response", "this"): 0,
        ("resolution", "this"): 0,
    }
