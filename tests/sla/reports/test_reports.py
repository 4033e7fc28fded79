"""Monthly reports over HTTP, from October's measured days (tests/sla/october.py)."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from monitoring.promql import PrometheusClient
from opscenter.db import Database
from opscenter.timekeeping import Period
from sla.measurements.models import Measurement
from sla.reports.models import SlaStatus
from sla.reports.service import line_reports
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.prometheus import Prometheus
from tests.sla import october, steps

FIELDS = ("status", "availability", "coverage", "credit_pct", "credit_tier_below", "up_samples", "samples",
          "expected_samples", "maintenance_minutes", "days_missing")  # fmt: skip


def _figures(report: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(report[name] for name in FIELDS)


def test_the_month_report_gives_availability_to_the_digit_and_the_credit_tier(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    october_ = steps.provision_october(api, world)
    steps.approve_maintenance(db, october_.of(october.MAINTAINED), *october.MAINTENANCE)
    # a second contract whose line starts on the 10th, watching the same service as OUTAGES
    _late, (late_instance,) = contracts.provisioned_contract(
        api, world, start="2026-10-10", number="SZSJ-2026-002", code="ECS-8C16G"
    )
    contracts.ok(
        api.as_(world.operator).patch(
            f"/api/v1/service-instances/{late_instance['id']}",
            {"label_matchers": october.OUTAGES.matchers},
            headers={"If-Match": '"1"'},
        )
    )
    assert steps.pull_october(db, prometheus).failure is None

    page = contracts.ok(api.as_(world.bureau).get("/api/v1/sla/reports", params={"period": "2026-10", "limit": 50}))
    reports = {report["service_instance_id"]: report for report in page["items"]}
    assert len(reports) == 6

    def of(plan: october.Plan) -> tuple[Any, ...]:
        return _figures(reports[october_.of(plan)["id"]])

    assert of(october.STEADY) == ("met", "100.00", "100.0", "0", None, 44640, 44640, 44640, 0, 0)
    # 180 minutes down: 99.5967…% is cut to 99.59, under 99.90 but not under 99.50: the 5 % tier
    assert of(october.OUTAGES) == ("breached", "99.59", "100.0", "5", "99.90", 44460, 44640, 44640, 0, 0)
    # a gap lowers coverage, never availability: 44415 of the 44460 samples present
    assert of(october.GAP) == ("breached", "99.89", "99.5", "5", "99.90", 44415, 44460, 44640, 0, 0)
    # two days without samples: 93.5 % coverage is below 95.0: no verdict, no credit
    assert of(october.MISSING_DAYS) == ("insufficient_data", "100.00", "93.5", "0", None, 41760, 41760, 44640, 0, 0)
    # 90 minutes of approved maintenance cut out, half of an hour's outage with them
    assert of(october.MAINTAINED) == ("met", "99.93", "100.0", "0", None, 44520, 44550, 44550, 90, 0)
    # active from the 10th: 22 days, the outage across midnight of the 12th in them, the one of the 5th not
    late_report = reports[late_instance["id"]]
    assert (late_report["first_day"], late_report["active_days"]) == ("2026-10-10", 22)
    assert _figures(late_report) == ("breached", "99.81", "100.0", "5", "99.90", 31620, 31680, 31680, 0, 0)

    # anyone can paste the PromQL into Prometheus and get the same counts
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        for report in (
            reports[october_.of(october.MAINTAINED)["id"]],
            late_report,
            reports[october_.of(october.GAP)["id"]],
        ):
            up, samples = (int(client.vector(query)[0].value) for query in report["promql"])
            assert (up, samples) == (report["up_samples"], report["samples"])

    # a day not measured (yet): the month waits, and its PromQL leaves the day out as the counts do
    steady = october_.of(october.STEADY)
    with db.transaction(write=True) as session:
        session.execute(
            delete(Measurement).where(
                col(Measurement.service_instance_id) == uuid.UUID(steady["id"]),
                col(Measurement.day) == date(2026, 10, 20),
            )
        )
    waiting = contracts.ok(
        api.as_(world.department).get(
            "/api/v1/sla/reports", params={"period": "2026-10", "service_instance_id": steady["id"]}
        )
    )["items"][0]
    assert _figures(waiting) == ("pending", "100.00", "100.0", "0", None, 43200, 43200, 43200, 0, 1)
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        assert [int(client.vector(query)[0].value) for query in waiting["promql"]] == [43200, 43200]

    # the last week not measured (yet): the days before it still tell their figures
    outages = october_.of(october.OUTAGES)
    with db.transaction(write=True) as session:
        session.execute(
            delete(Measurement).where(
                col(Measurement.service_instance_id) == uuid.UUID(outages["id"]),
                col(Measurement.day) >= date(2026, 10, 25),
            )
        )
    short = contracts.ok(
        api.as_(world.bureau).get(
            "/api/v1/sla/reports", params={"period": "2026-10", "service_instance_id": outages["id"]}
        )
    )["items"][0]
    assert _figures(short) == ("pending", "99.47", "100.0", "0", None, 34380, 34560, 34560, 0, 7)
    with PrometheusClient(steps.prometheus_settings(prometheus).prometheus) as client:
        assert [int(client.vector(query)[0].value) for query in short["promql"]] == [34380, 34560]

    # what billing calls: every line at once, or the lines it names
    late_line = (uuid.UUID(late_report["contract_id"]), late_report["line_no"])
    with db.transaction(write=False) as session:
        every = line_reports(session, period=Period(2026, 10))
        named = line_reports(session, period=Period(2026, 10), keys=[late_line])
    assert len(every) == 6
    assert list(named) == [late_line]
    one = named[late_line]
    assert one.availability == Decimal("99.81")
    assert one.status is SlaStatus.BREACHED
    assert one.credit_pct == Decimal("5")


def test_a_department_reads_only_its_own_reports_and_measurements(
    api: ApiFactory, world: World, db: Database, prometheus: Prometheus
) -> None:
    october_ = steps.provision_october(api, world)
    steps.pull_october(db, prometheus)
    mine, theirs = october_.of(october.GAP), october_.of(october.OUTAGES)  # GAP is department B's
    as_b = api.as_(world.department_b)

    page = contracts.ok(as_b.get("/api/v1/sla/reports", params={"period": "2026-10"}))
    assert [report["service_instance_id"] for report in page["items"]] == [mine["id"]]
    foreign = as_b.get("/api/v1/sla/reports", params={"period": "2026-10", "service_instance_id": theirs["id"]})
    assert foreign.status_code == 404
    assert as_b.get("/api/v1/sla/measurements", params={"service_instance_id": theirs["id"]}).status_code == 404
    days = contracts.ok(
        as_b.get("/api/v1/sla/measurements", params={"from": "2026-10-08", "to": "2026-10-09", "limit": 10})
    )
    assert [(row["day"], row["samples"]) for row in days["items"]] == [("2026-10-08", 1260), ("2026-10-09", 1440)]
    backwards = as_b.get("/api/v1/sla/measurements", params={"from": "2026-10-09", "to": "2026-10-08"})
    assert contracts.ok(backwards)["items"] == []


def test_a_month_not_over_is_pending(api: ApiFactory, world: World, db: Database) -> None:
    _, instance = contracts.provisioned_instance(api, world)
    page = contracts.ok(api.as_(world.department).get("/api/v1/sla/reports", params={"period": "2026-11"}))
    (report,) = page["items"]
    assert report["service_instance_id"] == instance["id"]
    assert (report["status"], report["credit_pct"], report["credit_tier_below"]) == ("pending", "0", None)
    assert report["days_missing"] > 0
