"""The daily pull against a real Prometheus holding October 2026 (tests/sla/october.py)."""

import threading
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from monitoring.promql import PrometheusClient
from opscenter.db import Database, core_table, new_id
from opscenter.timekeeping import utcnow
from sla.measurements.models import Measurement
from sla.measurements.pull import pull, sli_groups, targets, write_once
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.prometheus import Prometheus
from tests.sla import october, steps

FULL_DAY = 1440


def _figures(rows: dict[tuple[str, str], Any], instance: dict[str, Any], day: str) -> tuple[int, int, int, int]:
    row = rows[(instance["id"], day)]
    return row["up_samples"], row["samples"], row["expected_samples"], row["maintenance_seconds"]


def test_every_day_is_measured_to_the_exact_sample_with_requests_independent_of_instances(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    october_ = steps.provision_october(api, world)
    steps.approve_maintenance(db, october_.of(october.MAINTAINED), *october.MAINTENANCE)

    result = steps.pull_october(db, prometheus)

    assert result.failure is None
    assert len(result.days) == 31
    assert result.measured == 31 * len(october.PLANS)
    # two queries a day for every instance at once, and two more per extra window of the maintained day
    assert result.requests == 31 * 2 + 2 * 2
    rows = steps.measurements(db)
    outages, gap = october_.of(october.OUTAGES), october_.of(october.GAP)
    assert _figures(rows, outages, "2026-10-05") == (FULL_DAY - 120, FULL_DAY, FULL_DAY, 0)
    # the outage across midnight counts on both days, 30 minutes each
    assert _figures(rows, outages, "2026-10-12") == (FULL_DAY - 30, FULL_DAY, FULL_DAY, 0)
    assert _figures(rows, outages, "2026-10-13") == (FULL_DAY - 30, FULL_DAY, FULL_DAY, 0)
    # a three-hour gap: fewer samples, not downtime
    assert _figures(rows, gap, "2026-10-08") == (FULL_DAY - 180, FULL_DAY - 180, FULL_DAY, 0)
    assert _figures(rows, october_.of(october.MISSING_DAYS), "2026-10-20") == (0, 0, FULL_DAY, 0)
    # 14:30–16:00 cut out: of the 14:00–15:00 outage only its first half counts
    assert _figures(rows, october_.of(october.MAINTAINED), "2026-10-15") == (1320, 1350, 1350, 90 * 60)
    assert _figures(rows, october_.of(october.STEADY), "2026-10-31") == (FULL_DAY, FULL_DAY, FULL_DAY, 0)

    # the stored PromQL, pasted into Prometheus, gives the stored counts
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        for instance, day in ((outages, "2026-10-12"), (october_.of(october.MAINTAINED), "2026-10-15")):
            row = rows[(instance["id"], day)]
            answers = [int(client.vector(query)[0].value) for query in row["promql"]]
            half = len(answers) // 2
            assert (sum(answers[:half]), sum(answers[half:])) == (row["up_samples"], row["samples"])

    again = steps.pull_october(db, prometheus)
    assert (again.measured, again.requests) == (0, 0)
    assert steps.measurements(db) == rows


def test_days_no_contract_covers_cost_no_request(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    steps.provision_october(api, world)  # the contract runs from 2026-09-01
    days = [date(2026, 8, 25) + timedelta(days=n) for n in range(9)]  # 08-25 … 09-02
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        result = pull(db, client, days, now=utcnow())
    assert result.days == [date(2026, 9, 1), date(2026, 9, 2)]
    assert result.measured == 2 * len(october.PLANS)
    assert result.requests == 2 * 2, "two queries for each covered day; none for the seven before the contract"


class StopsPrometheus(httpx.HTTPTransport):
    """Stops the real server once ``after`` requests went through: Prometheus going away in the middle of a pull."""

    def __init__(self, server: Prometheus, after: int) -> None:
        super().__init__()
        self.server, self.after, self.seen = server, after, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen == self.after + 1:
            self.server.stop()
        return super().handle_request(request)


def test_prometheus_stopped_in_the_middle_of_a_pull_writes_nothing_for_that_day_and_the_retry_equals_a_clean_run(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    october_ = steps.provision_october(api, world)
    steps.approve_maintenance(db, october_.of(october.MAINTAINED), *october.MAINTENANCE)
    # 21 requests: ten days (two each) and the first query of the eleventh
    try:
        broken = steps.pull_october(db, prometheus, transport=StopsPrometheus(prometheus, after=21))
    finally:
        prometheus.start()
    assert broken.failure is not None
    assert broken.failure.kind == "unreachable"
    assert [day.isoformat() for day in broken.days][-1] == "2026-10-10"
    partial = steps.measurements(db)
    assert {day for _, day in partial} == {f"2026-10-{n:02d}" for n in range(1, 11)}

    retried = steps.pull_october(db, prometheus)
    assert retried.failure is None
    assert retried.measured == 21 * len(october.PLANS)
    after_retry = steps.measurements(db)

    with db.transaction(write=True) as session:
        session.execute(delete(Measurement))
    clean = steps.pull_october(db, prometheus)
    assert clean.measured == 31 * len(october.PLANS)
    assert steps.measurements(db) == after_retry


def test_two_pulls_racing_write_each_day_once(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    steps.provision_october(api, world)
    barrier, results = threading.Barrier(2), []

    def run() -> None:
        barrier.wait()
        results.append(steps.pull_october(db, prometheus))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result.failure is None for result in results)
    assert sum(result.measured for result in results) == 31 * len(october.PLANS)
    assert len(steps.measurements(db)) == 31 * len(october.PLANS)


def test_the_queries_sent_ahead_are_the_targets_whatever_their_label_names(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    october_ = steps.provision_october(api, world)
    operator = api.as_(world.operator)
    # label names that a database's collation and Python sort apart; one set shared by two instances
    relabeled = (
        (october.STEADY, {"instance": "x", "Zone": "east", "_env": "prod"}),
        (october.OUTAGES, {"_env": "prod", "instance": "y", "Zone": "west"}),
        (october.GAP, {"job": "blackbox", "instance": "z", "zone": "a"}),
    )
    for plan, matchers in relabeled:
        path = f"/api/v1/service-instances/{october_.of(plan)['id']}"
        etag = operator.get(path).headers["ETag"]
        contracts.ok(operator.patch(path, {"label_matchers": matchers}, headers={"If-Match": etag}))

    with db.transaction(write=False) as session:
        groups = sli_groups(session)
        assert groups == {(target.metric, target.label_names) for target in targets(session)}
    assert groups == {
        ("probe_success", ("Zone", "_env", "instance")),
        ("probe_success", ("instance", "job", "zone")),
        ("probe_success", ("instance", "job")),
    }
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        result = pull(db, client, [date(2026, 10, 1)], now=utcnow())
    assert result.measured == len(october.PLANS)
    assert result.requests == 3 * 2, "two queries for each label-name set, each sent once"
    rows = steps.measurements(db)
    assert _figures(rows, october_.of(october.STEADY), "2026-10-01") == (0, 0, FULL_DAY, 0)  # no such series
    assert _figures(rows, october_.of(october.MAINTAINED), "2026-10-01") == (FULL_DAY, FULL_DAY, FULL_DAY, 0)


def test_a_measurement_carries_its_instance_s_own_contract_line_and_department(
    api: ApiFactory, world: World, db: Database
) -> None:
    october_ = steps.provision_october(api, world)
    instance, other = october_.of(october.STEADY), october_.of(october.GAP)
    row = {
        "id": new_id(), "service_instance_id": uuid.UUID(instance["id"]), "day": date(2026, 10, 1),
        "contract_id": uuid.UUID(instance["contract_id"]), "line_no": instance["line_no"],
        "department_id": uuid.UUID(instance["department_id"]),
        "up_samples": 1440, "samples": 1440, "expected_samples": 1440, "maintenance_seconds": 0,
        "pulled_at": utcnow(), "promql": ["up"],
    }  # fmt: skip
    for wrong in (
        {"department_id": uuid.UUID(other["department_id"])},
        {"line_no": other["line_no"]},
        {"contract_id": new_id()},
        {"service_instance_id": new_id()},
    ):
        with pytest.raises(IntegrityError), db.transaction(write=True) as session:
            session.connection().execute(insert(core_table(Measurement)), {**row, **wrong})
    assert steps.measurements(db) == {}
    with db.transaction(write=True) as session:
        session.connection().execute(insert(core_table(Measurement)), row)
    assert list(steps.measurements(db)) == [(instance["id"], "2026-10-01")]


def test_a_fresh_day_that_a_racing_pull_wrote_in_part_meanwhile_gets_the_rest_written_once(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    steps.provision_october(api, world)
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        pull(db, client, [date(2026, 10, 1)], now=utcnow())
    table = core_table(Measurement)
    with db.transaction(write=False) as session:
        rows = [dict(row) for row in session.connection().execute(select(table)).mappings()]
    with db.transaction(write=True) as session:
        session.connection().execute(delete(table).where(table.c.id.in_([row["id"] for row in rows[1:]])))
    before = steps.measurements(db)
    assert len(before) == 1

    # the pull read the day as fresh; the racing pull's row is there by the time it writes
    with db.transaction(write=True) as session:
        assert write_once(session, [{**row, "id": new_id()} for row in rows], fresh=True) == len(rows) - 1
        assert write_once(session, [{**row, "id": new_id()} for row in rows], fresh=True) == 0
    after = steps.measurements(db)
    assert len(after) == len(rows)
    assert {key: after[key] for key in before} == before


def _answer(status: int = 200, body: Any = None, *, after: Exception | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if after is not None:
            raise after
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def _vector(*values: str) -> dict[str, Any]:
    result = [{"metric": {"instance": f"i{n}"}, "value": [1793462399.999, v]} for n, v in enumerate(values)]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


FAULTS = {
    "server_error": _answer(503, {"status": "error"}),
    "timeout": _answer(after=httpx.ReadTimeout("slow")),
    "unreachable": _answer(after=httpx.ConnectError("refused")),
    "partial": _answer(200, {**_vector("1440"), "warnings": ["store gateway unavailable"]}),
    "not_a_number": _answer(200, _vector("NaN")),
    "not_a_number (inf)": _answer(200, _vector("+Inf")),
    "malformed (not a count)": _answer(200, _vector("0.5")),
    "malformed (a matrix)": _answer(200, {"status": "success", "data": {"resultType": "matrix", "result": []}}),
    "malformed (status error)": _answer(200, {"status": "error", "error": "boom"}),
    "refused": _answer(400, {"status": "error", "errorType": "bad_data", "error": "parse error"}),
    "refused (a redirect)": _answer(302, None),
}


def test_a_bad_answer_writes_nothing(api: ApiFactory, world: World, db: Database, prometheus: Prometheus) -> None:
    steps.provision_october(api, world)
    for name, transport in FAULTS.items():
        result = steps.pull_october(db, prometheus, transport=transport)
        assert result.failure is not None, name
        assert result.failure.kind == name.split(" ")[0]
        assert result.days == [], name
        assert steps.measurements(db) == {}, name
