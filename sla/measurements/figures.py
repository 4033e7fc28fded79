"""SLA figures on /metrics (``monitoring.figures``): measured availability and coverage per catalog service, for
last month and this month so far, from the stored daily measurements — the bureau's "availability by service"."""

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlmodel import Session, col

from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from opscenter.timekeeping import Period, today
from sla.measurements.models import Measurement


def figures(session: Session | None) -> Iterable[Metric]:
    # ``month`` (last, this) for dashboards; ``period`` (YYYY-MM) for people.
    labels = ["service", "service_name", "month", "period"]
    availability = GaugeMetricFamily(
        "opscenter_sla_availability_ratio",
        "Measured availability (up samples / samples present) per catalog service, last month and this month so far",
        labels=labels,
    )
    coverage = GaugeMetricFamily(
        "opscenter_sla_coverage_ratio",
        "Samples present / samples expected (outside maintenance) per catalog service, last month and this month",
        labels=labels,
    )
    if session is not None:
        this_month = Period.of(today())
        for month, period in (("last", Period.of(this_month.first_day - timedelta(days=1))), ("this", this_month)):
            rows = session.execute(
                select(
                    col(CatalogService.code),
                    col(CatalogService.name),
                    func.sum(Measurement.up_samples),
                    func.sum(Measurement.samples),
                    func.sum(Measurement.expected_samples),
                )
                .select_from(Measurement)
                .join(ServiceInstance, col(ServiceInstance.id) == Measurement.service_instance_id)
                .join(CatalogService, col(CatalogService.id) == ServiceInstance.service_id)
                .where(col(Measurement.day) >= period.first_day, col(Measurement.day) <= period.last_day)
                .group_by(col(CatalogService.code), col(CatalogService.name))
            ).all()
            for code, name, up, samples, expected in rows:
                if samples:
                    availability.add_metric([code, name, month, str(period)], float(up) / float(samples))
                if expected:
                    coverage.add_metric([code, name, month, str(period)], float(samples) / float(expected))
    return [availability, coverage]
