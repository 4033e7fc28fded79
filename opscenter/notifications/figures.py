"""Notification delivery on /metrics, read from the database when scraped (a ``monitoring.figures`` source of the
house's own figures): dead letters by channel, deliveries waiting, and how long the oldest due one has waited.
Read at scrape time, so every process reports the truth, and a stopped worker shows as a growing wait."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, col, func, select

from opscenter.notifications.delivery_models import Channel, DeliveryStatus, NotificationDelivery
from opscenter.timekeeping import utcnow


def figures(session: Session | None) -> Iterable[Metric]:
    dead = GaugeMetricFamily(
        "opscenter_notification_dead_letters",
        "Deliveries given up after their last try (or refused for good), by channel",
        labels=["channel"],
    )
    pending = GaugeMetricFamily(
        "opscenter_notification_pending_deliveries", "Deliveries not yet delivered nor given up", labels=["channel"]
    )
    oldest = GaugeMetricFamily(
        "opscenter_notification_oldest_due_seconds",
        "How long the oldest due delivery has waited past its time; 0 when none is due",
    )
    if session is None:
        return [dead, pending, oldest]
    counts = {
        (channel, status): number
        for channel, status, number in session.exec(
            select(NotificationDelivery.channel, NotificationDelivery.status, func.count())
            .where(col(NotificationDelivery.status).in_([DeliveryStatus.DEAD, DeliveryStatus.PENDING]))
            .group_by(col(NotificationDelivery.channel), col(NotificationDelivery.status))
        ).all()
    }
    for channel in Channel:
        dead.add_metric([channel.value], float(counts.get((channel, DeliveryStatus.DEAD), 0)))
        pending.add_metric([channel.value], float(counts.get((channel, DeliveryStatus.PENDING), 0)))
    now = utcnow()
    first_due = session.exec(
        select(func.min(NotificationDelivery.next_attempt_at)).where(
            NotificationDelivery.status == DeliveryStatus.PENDING, col(NotificationDelivery.next_attempt_at) <= now
        )
    ).first()
    oldest.add_metric([], max(0.0, (now - first_due).total_seconds()) if first_due is not None else 0.0)
    return [dead, pending, oldest]
