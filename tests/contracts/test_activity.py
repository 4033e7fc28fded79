"""A line's days in force in a month, as SLA reports and billing read them: amendments end the version before
them, a line starting mid-month is prorated by its own dates, a terminated contract stops after its last day."""

import uuid
from datetime import date

from contracts.agreements.activity import active_lines
from opscenter.db import Database
from opscenter.timekeeping import Period
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.factories import World


def _lines(db: Database, period: str, contract_id: str) -> list[tuple[int, list[tuple[int, date, date, int]]]]:
    with db.session(write=False) as session:
        return [
            (line.line_no, [(s.version_number, s.first_day, s.last_day, s.quantity) for s in line.spans])
            for line in active_lines(session, period=Period.parse(period), contract_ids=[uuid.UUID(contract_id)])
        ]


def test_an_amendment_mid_year_splits_the_month_it_takes_effect_in_and_new_lines_start_on_their_own_dates(
    world: World, api: ApiFactory, db: Database
) -> None:
    _, contract = steps.standard_contract(api, world)  # line 1: 20 units, 2027-01-01 … 2027-12-31
    line = contract["lines"][0]
    continuing = {key: line[key] for key in ("service_id", "department_id", "start_date", "end_date", "unit_price")}
    added = {**continuing, "start_date": "2027-07-10", "quantity": 5}
    body = {
        "effective_date": "2027-07-15",
        "note": "扩容",
        "lines": [{**continuing, "line_no": 1, "quantity": 25}, added],
    }
    path = f"/api/v1/contracts/{contract['id']}"
    amendment = steps.ok(api.as_(world.bureau).post(f"{path}/amendments", body), 201)
    steps.act(api, world.bureau2, f"{path}/versions/{amendment['number']}", "approve")

    assert _lines(db, "2027-06", contract["id"]) == [(1, [(1, date(2027, 6, 1), date(2027, 6, 30), 20)])]
    july = dict(_lines(db, "2027-07", contract["id"]))
    assert july[1] == [(1, date(2027, 7, 1), date(2027, 7, 14), 20), (2, date(2027, 7, 15), date(2027, 7, 31), 25)]
    # the new line's own start (07-10) lies before the amendment takes effect: it counts from 07-15
    assert july[2] == [(2, date(2027, 7, 15), date(2027, 7, 31), 5)]
    assert _lines(db, "2028-01", contract["id"]) == []


def test_a_terminated_contract_is_in_force_through_its_termination_date_only(
    world: World, api: ApiFactory, db: Database
) -> None:
    _, contract = steps.standard_contract(api, world)
    path = f"/api/v1/contracts/{contract['id']}"
    steps.act(api, world.bureau, path, "terminate", {"terminated_on": "2027-03-20", "reason": "服务迁移"})

    with db.session(write=False) as session:
        [march] = active_lines(session, period=Period.parse("2027-03"), contract_ids=[uuid.UUID(contract["id"])])
        assert (march.first_day, march.last_day, march.active_days) == (date(2027, 3, 1), date(2027, 3, 20), 20)
        assert active_lines(session, period=Period.parse("2027-04"), contract_ids=[uuid.UUID(contract["id"])]) == []
