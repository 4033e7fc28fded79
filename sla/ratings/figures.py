"""Ratings on /metrics (``monitoring.figures``): last month's mean score and number of ratings per catalog
service, for the bureau's dashboard. Only aggregates, as the operations center sees them."""

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, col, func, select

from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from opscenter.timekeeping import Period, today
from sla.ratings.models import Rating


def figures(session: Session | None) -> Iterable[Metric]:
    mean = GaugeMetricFamily(
        "opscenter_rating_score_mean",
        "Mean score (0-100) of last month's ratings of each catalog service",
        labels=["service", "service_name"],
    )
    count = GaugeMetricFamily(
        "opscenter_ratings", "Ratings given for last month, per catalog service", labels=["service", "service_name"]
    )
    if session is not None:
        last_month = Period.of(Period.of(today()).first_day - timedelta(days=1))
        rows = session.exec(
            select(CatalogService.code, CatalogService.name, func.avg(Rating.score), func.count())
            .select_from(Rating)
            .join(ServiceInstance, col(ServiceInstance.id) == Rating.service_instance_id)
            .join(CatalogService, col(CatalogService.id) == ServiceInstance.service_id)
            .where(Rating.period == str(last_month))
            .group_by(col(CatalogService.code), col(CatalogService.name))
        ).all()
        for code, name, average, ratings in rows:
            mean.add_metric([code, name], float(average))
            count.add_metric([code, name], float(ratings))
    return [mean, count]
