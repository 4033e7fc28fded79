"""Aggregates of ratings: what the operations center may read, and the month's score billing needs.

Means are computed from integer sums, in Decimal, rounded half up to two decimals: never floats.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select

from contracts.instances import service as instances
from operations.tickets import service as tickets
from opscenter.identity.actor import Actor
from opscenter.timekeeping import Period
from sla.ratings.models import DimensionMeans, Rating, RatingSummary, ScoreBand, TicketSatisfaction

CENT = Decimal("0.01")
# Best first; they cover 0–100 without gaps.
BANDS = ((90, 100), (80, 89), (70, 79), (60, 69), (0, 59))


def mean(total: int | None, count: int) -> Decimal | None:
    """``total / count`` rounded half up to 0.01; None when nothing was counted."""
    if not count or total is None:
        return None
    return (Decimal(total) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP)


def summarize(
    session: Session, *, actor: Actor, period: Period | None = None, service_instance_id: uuid.UUID | None = None
) -> RatingSummary:
    """Count, mean score, dimension means and the distribution over score bands of the ratings matching the
    filters. A department sees only its own ratings summed up; an instance it may not see is 404."""
    if service_instance_id is not None:
        instances.get_instance(session, service_instance_id, actor=actor)  # 404 when not visible
    columns: list[Any] = [
        func.count(),
        func.sum(Rating.score),
        func.count(col(Rating.quality)),
        func.sum(Rating.quality),
        func.sum(Rating.timeliness),
        func.sum(Rating.attitude),
    ]
    columns += [
        func.sum(case((and_(col(Rating.score) >= low, col(Rating.score) <= high), 1), else_=0)) for low, high in BANDS
    ]
    query = select(*columns)
    if actor.is_department:
        query = query.where(Rating.department_id == actor.required_organization_id)
    if period is not None:
        query = query.where(Rating.period == str(period))
    if service_instance_id is not None:
        query = query.where(Rating.service_instance_id == service_instance_id)
    count, score_sum, rated, quality, timeliness, attitude, *bands = session.exec(query).one()
    satisfaction = tickets.satisfaction_summary(
        session,
        period=period,
        service_instance_id=service_instance_id,
        department_id=actor.required_organization_id if actor.is_department else None,
    )
    return RatingSummary(
        period=str(period) if period is not None else None,
        service_instance_id=service_instance_id,
        count=count,
        mean_score=mean(score_sum, count),
        dimensions=DimensionMeans(
            rated=rated,
            quality=mean(quality, rated),
            timeliness=mean(timeliness, rated),
            attitude=mean(attitude, rated),
        ),
        distribution=[
            ScoreBand(min_score=low, max_score=high, count=int(band or 0))
            for (low, high), band in zip(BANDS, bands, strict=True)
        ],
        ticket_satisfaction=TicketSatisfaction(count=satisfaction.count, mean=satisfaction.mean),
    )


@dataclass(frozen=True)
class InstanceScore:
    """An instance's rating for a month, as billing applies it (DESIGN §5 ``rating_tiers``)."""

    score: Decimal | None  # the mean of its departments' scores, half up to 0.01; None: unrated (coefficient 1.00)
    ratings: int


def instance_scores(
    session: Session, *, service_instance_ids: Collection[uuid.UUID], period: Period
) -> dict[uuid.UUID, InstanceScore]:
    """Each instance's score for ``period`` (one query for any number of instances); unrated ones too."""
    scores = {instance_id: InstanceScore(score=None, ratings=0) for instance_id in service_instance_ids}
    if not scores:
        return scores
    rows = session.exec(
        select(Rating.service_instance_id, func.count(), func.sum(Rating.score))
        .where(col(Rating.service_instance_id).in_(scores), Rating.period == str(period))
        .group_by(col(Rating.service_instance_id))
    ).all()
    for instance_id, count, total in rows:
        scores[instance_id] = InstanceScore(score=mean(total, count), ratings=count)
    return scores
