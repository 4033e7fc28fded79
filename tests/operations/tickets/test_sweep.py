"""The minute sweep: breaches recorded once (also when two sweeps race), escalation at 75 %, auto-close after
five working days; billing's breaches of a month; the figures on /metrics."""

import threading
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from operations.tickets import jobs, service
from operations.tickets.jobs import SweepResult
from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import JobContext
from opscenter.timekeeping import Period
from tests.conftest import ApiFactory
from tests.contracts.steps import ok
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import act, beijing, instant, open_ticket
from tests.opscenter.calendar import steps as calendar
from tests.support import scrape


def sweep(db: Database, now: datetime) -> SweepResult:
    return jobs.sweep(db, JobContext(now=now, actor=Actor.system("job:tickets.sweep", "test")))


def breaches_counted(kind: str) -> float:
    return REGISTRY.get_sample_value("opscenter_ticket_breaches_total", {"kind": kind}) or 0.0


def test_two_racing_sweeps_record_each_breach_once(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)):
        tickets = [open_ticket(api, world.department, instance, "P1") for _ in range(5)]
    counted = breaches_counted("response")
    later = beijing(2026, 3, 2, 10, 20)  # past the 15-minute response target
    barrier = threading.Barrier(2)
    results: list[SweepResult] = []

    def racer() -> None:
        barrier.wait()
        results.append(sweep(db, later))

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result.response_breaches for result in results) in ([0, 5], [1, 4], [2, 3])
    assert sum(result.response_breaches for result in results) == 5
    assert breaches_counted("response") - counted == 5
    for ticket in tickets:
        now = steps.read(api, world.operator, ticket)
        assert instant(now["response_breached_at"]) == beijing(2026, 3, 2, 10, 15)  # breach time = due time
    assert sweep(db, later).response_breaches == 0


def test_the_sweep_escalates_at_three_quarters_then_records_the_resolution_breach_for_billing(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 31, 20)):
        late = open_ticket(api, world.department, instance, "P1")  # due 2026-04-01 00:00 Beijing
        steps.in_progress(api, world, late)
        on_time = open_ticket(api, world.department, instance, "P1")
        steps.resolved(api, world, on_time)
    assert sweep(db, beijing(2026, 3, 31, 22, 59)).escalations == 0
    assert sweep(db, beijing(2026, 3, 31, 23, 1)).escalations == 1  # 180 of 240 minutes
    assert steps.read(api, world.department, late)["escalated_at"] is not None
    assert [t["id"] for t in steps.listed(api, world.operator, escalated="true")["items"]] == [late["id"]]
    assert sweep(db, beijing(2026, 4, 1, 0, 1)).resolution_breaches == 1
    # The breach time is the due time: April in Beijing, though still March 31st in UTC.
    with db.transaction(write=False) as session:
        april = service.resolution_breaches(session, period=Period(2026, 4))
        assert service.resolution_breaches(session, period=Period(2026, 3)) == {}
        assert service.resolution_breaches(session, period=Period(2026, 4), contract_ids=[]) == {}
        only_this = service.resolution_breaches(
            session, period=Period(2026, 4), contract_ids=[uuid.UUID(late["contract_id"])]
        )
    ((key, breaches),) = april.items()
    assert key == (uuid.UUID(late["contract_id"]), late["line_no"])
    assert [(b.number, b.priority.value, b.resolution_due_at) for b in breaches] == [
        (late["number"], "P1", beijing(2026, 4, 1))
    ]
    assert only_this == april


def test_a_resolved_ticket_closes_itself_after_five_working_days_then_takes_one_satisfaction(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 2, 13, 14)) as clock:
        ticket = open_ticket(api, world.department, instance, "P1")
        clock.advance(hours=1)
        resolved = steps.resolved(api, world, ticket)
    # Friday 2026-02-13 15:00; Saturday the 14th works, the Spring Festival is off, then the 24th … 27th.
    assert instant(resolved["auto_close_at"]) == beijing(2026, 2, 27, 15)
    assert sweep(db, beijing(2026, 2, 27, 14, 59)).auto_closed == 0
    assert sweep(db, beijing(2026, 2, 27, 15, 1)).auto_closed == 1
    closed = steps.read(api, world.department, ticket)
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    history = ok(api.as_(world.auditor).get(f"{steps.path(ticket)}/history"))["items"]
    assert history[-1]["action"] == "ticket.auto_close"
    rated = act(api, world.department, ticket, "satisfaction", {"score": 5, "comment": "处理及时。"})
    assert (rated["satisfaction_score"], rated["satisfaction_comment"]) == (5, "处理及时。")
    again = api.as_(world.department).act(steps.path(ticket), "satisfaction", {"score": 1})
    assert again.status_code == 409
    with db.transaction(write=False) as session:
        given = service.satisfaction_summary(session, period=Period(2026, 2))  # the tickets' clock stays set
        assert (given.count, given.mean) == (1, Decimal("5.00"))
        assert service.satisfaction_summary(session, period=Period(2026, 3)).count == 0
    # the ratings summary carries it as its own figure, to the operations center and the department itself only
    for who, expected in (
        (world.operator, {"count": 1, "mean": "5.00"}),
        (world.department_b, {"count": 0, "mean": None}),
    ):
        summary = ok(api.as_(who).get("/api/v1/ratings/summary", params={"period": "2026-02"}))
        assert summary["ticket_satisfaction"] == expected
    assert sweep(db, beijing(2026, 3, 2)).auto_closed == 0


def test_a_department_reopens_within_ten_days_and_the_clock_runs_again(
    api: ApiFactory, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)) as clock:
        first, second = (open_ticket(api, world.department, instance, "P2") for _ in range(2))
        clock.advance(hours=1)
        steps.resolved(api, world, first)
        steps.resolved(api, world, second)
        clock.advance(days=2)
        reopened = act(api, world.department, first, "reopen", {"reason": "登录再次失败。"})
        assert reopened["status"] == "in_progress"
        assert reopened["reopen_count"] == 1
        # Resolved for two days: the due time moves by exactly that.
        assert instant(reopened["resolution_due_at"]) == beijing(2026, 3, 4, 18)
        clock.advance(days=8, seconds=1)
        late = api.as_(world.department).act(steps.path(second), "reopen", {"reason": "又坏了。"})
    assert late.status_code == 409
    assert "10 days" in late.json()["detail"]


def test_metrics_show_open_tickets_breaches_and_the_sweep(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 3, 2, 10)):
        open_ticket(api, world.department, instance, "P1")
        open_ticket(api, world.department, instance, "P3")
    sweep(db, beijing(2026, 3, 2, 10, 20))
    text = scrape(api.base_url)
    assert 'opscenter_tickets_open{priority="P1",state="new"} 1.0' in text
    assert 'opscenter_tickets_open{priority="P3",state="new"} 1.0' in text
    assert 'opscenter_tickets_open{priority="P2",state="new"} 0.0' in text
    assert 'opscenter_ticket_breaches_total{kind="response"}' in text
    assert "opscenter_ticket_sweep_seconds_count" in text


def test_auto_close_waits_for_the_calendar_of_a_year_it_does_not_know(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 12, 29, 9)) as clock:
        ticket = open_ticket(api, world.department, instance, "P1")
        clock.advance(hours=1)
        resolved = steps.resolved(api, world, ticket)
    # Five working days from Tuesday 2026-12-29 reach into 2027, which nobody has entered: the earliest possible.
    assert instant(resolved["auto_close_at"]) == beijing(2027, 1, 3, 10)
    assert sweep(db, beijing(2027, 1, 3, 10, 1)).auto_closed == 0  # never guessed: it waits a day
    assert instant(steps.read(api, world.department, ticket)["auto_close_at"]) == beijing(2027, 1, 4, 10, 1)
    calendar.enter_2027_new_year(api, world)
    # 30th, 31st, (New Year's Day off, the weekend) 4th, 5th, 6th.
    assert sweep(db, beijing(2027, 1, 4, 10, 2)).auto_closed == 0
    assert instant(steps.read(api, world.department, ticket)["auto_close_at"]) == beijing(2027, 1, 6, 10)
    assert sweep(db, beijing(2027, 1, 6, 10, 1)).auto_closed == 1
    assert steps.read(api, world.department, ticket)["status"] == "closed"


def test_tickets_close_themselves_a_few_to_a_transaction_up_to_the_sweep_s_limit(
    api: ApiFactory, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    with steps.tickets_clock(monkeypatch, beijing(2026, 2, 13, 14)) as clock:
        tickets = [open_ticket(api, world.department, instance, "P1") for _ in range(3)]
        clock.advance(hours=1)
        for ticket in tickets:
            steps.resolved(api, world, ticket)
    monkeypatch.setattr(jobs, "AUTO_CLOSE_STEP", 1)
    monkeypatch.setattr(jobs, "AUTO_CLOSE_BATCH", 2)
    assert sweep(db, beijing(2026, 2, 27, 15, 1)).auto_closed == 2
    assert sweep(db, beijing(2026, 2, 27, 15, 2)).auto_closed == 1, "the rest, the next minute"
    assert {steps.read(api, world.department, ticket)["status"] for ticket in tickets} == {"closed"}
