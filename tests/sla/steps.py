"""SLA steps: October's instances provisioned over HTTP, pulls against the test Prometheus, approved maintenance."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from monitoring.promql import PrometheusClient
from opscenter.db import Database, core_table
from opscenter.settings import Settings
from opscenter.timekeeping import Period, utcnow
from sla.maintenance.models import MaintenanceStatus, MaintenanceWindow, MaintenanceWindowInstance
from sla.measurements.models import Measurement
from sla.measurements.pull import PullResult, pull
from tests.conftest import ApiFactory, make_settings
from tests.contracts import steps as contracts
from tests.factories import World
from tests.prometheus import Prometheus
from tests.sla import october

JSON = dict[str, Any]


@dataclass(frozen=True)
class October:
    """The contract of October's plans: one line and instance per plan, all of department A but GAP (B's)."""

    contract: JSON
    instances: dict[str, JSON]  # by plan instance label

    def of(self, plan: october.Plan) -> JSON:
        return self.instances[plan.instance]


def provision_october(api: ApiFactory, world: World) -> October:
    """One request per department (B's for GAP, A's for the rest), one contract, an instance per line."""
    service = contracts.catalog_service(api, world)
    requests = {}
    for department in (world.department, world.department_b):
        contracts.budget(api, world, department, 2026, "1000000.00")
        count = 1 if department is world.department_b else len(october.PLANS) - 1
        items = [contracts.item(service, quantity=1, start="2026-09-01", end="2026-12-31")] * count
        requests[department] = contracts.approved_request(api, world, department, *items)
    contract = contracts.approved_contract(
        api, world, list(requests.values()), signed_date="2026-08-15", start_date="2026-09-01", end_date="2026-12-31"
    )
    a_lines = iter(line for line in contract["lines"] if line["department_id"] == str(world.department.organization_id))
    (b_line,) = [line for line in contract["lines"] if line["department_id"] == str(world.department_b.organization_id)]
    by_plan = {
        plan.instance: _instance(api, world, contract, b_line if plan is october.GAP else next(a_lines), plan)
        for plan in october.PLANS
    }
    return October(contract, by_plan)


def _instance(api: ApiFactory, world: World, contract: JSON, line: JSON, plan: october.Plan) -> JSON:
    body = {"contract_id": contract["id"], "line_no": line["line_no"], "name": plan.instance[:200],
            "label_matchers": plan.matchers}  # fmt: skip
    return contracts.ok(api.as_(world.operator).post("/api/v1/service-instances", body), 201)


def approve_maintenance(db: Database, instance: JSON, starts_at: str, ends_at: str) -> uuid.UUID:
    """An approved window in the past, as the bureau approved it then (the API refuses deciding one that started)."""
    with db.transaction(write=True) as session:
        window = MaintenanceWindow(
            starts_at=datetime.fromisoformat(starts_at).astimezone(UTC),
            ends_at=datetime.fromisoformat(ends_at).astimezone(UTC),
            reason="数据库主备切换",
            status=MaintenanceStatus.APPROVED,
            instance_ids=[instance["id"]],
        )
        session.add(window)
        session.flush()
        session.add(
            MaintenanceWindowInstance(
                maintenance_window_id=window.id,
                service_instance_id=uuid.UUID(instance["id"]),
                department_id=uuid.UUID(instance["department_id"]),
            )
        )
        return window.id


def prometheus_settings(server: Prometheus, **overrides: Any) -> Settings:
    values = {"prometheus_url": server.url, "prometheus_retries": 1, "prometheus_retry_backoff_seconds": 0.0}
    return make_settings("sqlite://", **{**values, **overrides})


def pull_october(
    db: Database,
    server: Prometheus | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    settings: Settings | None = None,
) -> PullResult:
    settings = settings or prometheus_settings(server)  # type: ignore[arg-type]
    period = Period.parse(october.PERIOD)
    days = [period.first_day + timedelta(days=n) for n in range(period.days)]
    with PrometheusClient(settings.prometheus, transport=transport) as prometheus:
        return pull(db, prometheus, days, now=utcnow())


def measurements(db: Database) -> dict[tuple[str, str], JSON]:
    """Every measurement by (instance id, day), without its id and pull time (which differ between pulls)."""
    table = core_table(Measurement)
    with db.transaction(write=False) as session:
        rows = session.connection().execute(select(table)).mappings().all()
    return {
        (str(row["service_instance_id"]), row["day"].isoformat()): {
            key: value for key, value in row.items() if key not in ("id", "pulled_at")
        }
        for row in rows
    }
