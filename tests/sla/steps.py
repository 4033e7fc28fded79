"""SLA steps: October's instances provisioned over HTTP, pulls against the test Prometheus, approved maintenance."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from monitoring.promql import PrometheusClient
from opscenter.clock import Period, utcnow
from opscenter.db import Database, core_table
from opscenter.settings import Settings
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
    departments = [world.department_b if plan is october.GAP else world.department for plan in october.PLANS]
    contract, instances = contracts.provisioned_contract(api, world, *departments, start="2026-09-01")
    by_plan = {}
    for plan, instance in zip(october.PLANS, instances, strict=True):
        path = f"/api/v1/service-instances/{instance['id']}"
        by_plan[plan.instance] = contracts.ok(
            api.as_(world.operator).patch(path, {"label_matchers": plan.matchers}, headers={"If-Match": '"1"'})
        )
    return October(contract, by_plan)


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
    with db.transaction(write=True) as session, PrometheusClient(settings, transport=transport) as prometheus:
        return pull(session, prometheus, days, now=utcnow())


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
