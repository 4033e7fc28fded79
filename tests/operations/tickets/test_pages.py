"""The ticket board and a ticket's page in the console: the operator takes a ticket through its states, the
department confirms and rates it; a breach shows in red; another department's ticket is a 404."""

import re
from datetime import timedelta

from operations.tickets import jobs
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.console.people import Person, logged_in
from tests.factories import World
from tests.operations.tickets.steps import instance, open_ticket, read
from tests.support import RunningServer


def _step(person: Person, page: str, side: str, step: str, text: str = "", **extra: str) -> str:
    version = re.search(r'name="version" value="(\d+)"', person.page(page).text)
    assert version is not None
    answer = person.submit(f"{page}/{side}", {"version": version.group(1), "step": step, "text": text, **extra})
    assert answer.status_code == 303, answer.text
    return person.page(page).text


def test_a_ticket_goes_through_its_states_from_the_console(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    ticket = open_ticket(api, world.department, instance(api, world), priority="P3")
    page = f"/console/tickets/{ticket['id']}"
    with logged_in(server.base_url, db, world.operator) as operator:
        board = operator.page("/console/tickets?status=new")
        assert ticket["number"] in board.text
        assert ticket["number"] in operator.page(f"/console/tickets?number={ticket['number']}").text
        assert "已受理" in _step(operator, page, "operate", "acknowledge")
        assert "处理中" in _step(operator, page, "operate", "start")
        comment = operator.submit(f"{page}/comments", {"text": "已联系机房排查。"})
        assert comment.status_code == 303
        assert "已解决" in _step(operator, page, "operate", "resolve", "已重启负载均衡。")
    with logged_in(server.base_url, db, world.department) as department:
        assert "已联系机房排查。" in department.page(page).text
        assert "已关闭" in _step(department, page, "confirm", "close")
        assert "5 / 5" in _step(department, page, "confirm", "satisfaction", score="5")
    assert read(api, world.auditor, ticket)["status"] == "closed"


def test_a_breached_ticket_shows_in_red_on_the_board(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    ticket = open_ticket(api, world.department, instance(api, world), priority="P1")
    later = utcnow() + timedelta(hours=5)  # past P1's 240 minutes
    jobs.sweep(db, JobContext(now=later, actor=Actor.system("job:tickets.sweep", "test")))
    with logged_in(server.base_url, db, world.operator) as operator:
        board = operator.page("/console/tickets?breached=true").text
        row = re.search(rf'<tr class="([a-z]*)">\s*<th scope="row"><a href="[^"]+">{ticket["number"]}', board)
        assert row is not None
        assert row.group(1) == "breached"
        assert "已违约" in board


def test_another_departments_ticket_page_is_a_404_and_its_actions_too(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    ticket = open_ticket(api, world.department, instance(api, world))
    page = f"/console/tickets/{ticket['id']}"
    with logged_in(server.base_url, db, world.department_b) as stranger:
        assert stranger.page(page).status_code == 404
        assert ticket["number"] not in stranger.page("/console/tickets").text
        answer = stranger.submit(f"{page}/confirm", {"version": "1", "step": "close"})
        assert answer.status_code == 404


def test_the_board_keeps_its_filters_chosen_and_in_the_next_page_link(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    serving = instance(api, world)
    for _ in range(2):
        open_ticket(api, world.department, serving, priority="P3")
    with logged_in(server.base_url, db, world.operator) as operator:
        board = operator.page("/console/tickets?status=new&priority=P3&limit=1")
        assert board.status_code == 200, board.text
        assert re.search(r'<option value="new" selected>', board.text)
        assert re.search(r'<option value="P3" selected>', board.text)
        following = re.search(r'href="\?([^"]*cursor=[^"]+)"', board.text)
        assert following is not None
        assert following.group(1).startswith("status=new&amp;priority=P3&amp;cursor=")
        assert operator.page(f"/console/tickets?{following.group(1).replace('&amp;', '&')}").status_code == 200
