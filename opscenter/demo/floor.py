"""The operations floor of the demo: infrastructure handed over (one batch still in inspection), assets linked to
the service instances they back, and the departments' ratings."""

import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from contracts.agreements.models import Contract
from contracts.catalog.models import CatalogService
from contracts.instances.models import ServiceInstance
from operations.assets.handover import flows as handover
from operations.assets.handover import service as batches
from operations.assets.handover.models import (
    HandoverBatch,
    HandoverBatchCreate,
    InspectionIn,
    InspectionResult,
    ItemDecision,
)
from operations.assets.register import service as register
from operations.assets.register.models import Asset, AssetKind, AssetState, AssetUpdate
from opscenter.demo.cast import Cast
from opscenter.demo.inventory import BATCH_PLANS, BatchPlan, batch_items
from opscenter.demo.province import APPROVER, DEPARTMENTS, OPERATOR_USER, Calendar, department_user
from opscenter.timekeeping import Period, business_date, replaying
from sla.ratings import periods
from sla.ratings import service as ratings
from sla.ratings.models import Dimensions, Rating, RatingBatchIn, RatingIn, RatingPeriod

_DEFECTS = ("电源模块故障，无法开机", "序列号与清单不符", "硬盘告警，需更换后重新移交", "缺少维保合同及许可证明")
# Which service an asset of a kind backs, when its department has an instance of it.
_BACKS = {AssetKind.SERVER: "ECS-4C8G", AssetKind.APPLICATION_SYSTEM: "APP-OPS", AssetKind.DATABASE: "RDS-MYSQL"}
_LINKED_PER_KIND = 3


def add_handovers(session: Session, cast: Cast, calendar: Calendar) -> str:
    states: dict[str, int] = defaultdict(int)
    for index, plan in enumerate(BATCH_PLANS):
        states[_hand_over(session, cast, _batch_timeline(calendar, index, plan), plan)] += 1
    with replaying(calendar.days_ago(1, 16)):
        linked = _link_assets(session, cast)
    operated = session.exec(select(Asset.id).where(Asset.state == AssetState.OPERATED)).all()
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return f"{len(BATCH_PLANS)} batches ({summary}); {len(operated)} assets operated, {linked} back an instance"


def _batch_timeline(calendar: Calendar, index: int, plan: BatchPlan) -> list[datetime]:
    """When a batch was drafted, submitted, inspected, and signed by the three parties: the completed ones a
    month apart from nine months ago on, the others in the last fortnight."""
    if plan.fate != "completed":
        return [calendar.days_ago(days, hour) for days, hour in ((10, 9), (8, 14), (2, 17))]
    month = calendar.months_ago(9 - index)
    return [
        calendar.at(month + timedelta(days=days), hour)
        for days, hour in ((2, 9), (4, 14), (11, 17), (14, 10), (15, 15), (16, 11))
    ]


def has_handovers(session: Session, cast: Cast, calendar: Calendar) -> bool:
    first = BATCH_PLANS[0].title
    return session.exec(select(HandoverBatch.id).where(HandoverBatch.title == first)).first() is not None


def _hand_over(session: Session, cast: Cast, timeline: list[datetime], plan: BatchPlan) -> str:
    department = cast[department_user(plan.department)]
    operator, bureau = cast[OPERATOR_USER], cast[APPROVER]
    with replaying(timeline[0]):
        data = HandoverBatchCreate(title=plan.title, planned_date=business_date(timeline[1]), items=batch_items(plan))
        batch = batches.create_batch(session, data, actor=department)
    if plan.fate == "draft":
        return batch.status.value
    with replaying(timeline[1]):
        batch = handover.submit(session, batch.id, actor=department, expected_version=batch.version)
    items = [item for chunk in batches.iter_items(session, batch) for item in chunk]
    rng = random.Random(plan.title)
    rejected = rng.sample(items, plan.rejected)
    decisions = [
        ItemDecision(item_id=item.id, result=InspectionResult.REJECTED, defect_note=rng.choice(_DEFECTS))
        for item in rejected
    ]
    if plan.fate == "inspecting":  # half inspected so far; the rest waits
        decisions += [
            ItemDecision(item_id=item.id, result=InspectionResult.ACCEPTED)
            for item in items[: len(items) // 2]
            if item not in rejected
        ]
    inspection = InspectionIn(decisions=decisions, accept_remaining=plan.fate == "completed")
    with replaying(timeline[2]):
        batch = handover.inspect(session, batch.id, inspection, actor=operator, expected_version=batch.version)
    if plan.fate == "completed":
        for signer, when in zip((department, operator, bureau), timeline[3:], strict=True):
            with replaying(when):
                batch = handover.sign(session, batch.id, actor=signer, expected_version=batch.version)
    return batch.status.value


def _link_assets(session: Session, cast: Cast) -> int:
    """A few operated assets of each kind back their department's instance of the matching service."""
    operator = cast[OPERATOR_USER]
    instances = session.exec(
        select(ServiceInstance, CatalogService.code).join(
            CatalogService, col(CatalogService.id) == ServiceInstance.service_id
        )
    ).all()
    instance_of = {(instance.department_id, code): instance.id for instance, code in instances}
    linked = 0
    for kind, code in _BACKS.items():
        for department in DEPARTMENTS:
            instance_id = instance_of.get((cast.department(department), code))
            if instance_id is None:
                continue
            assets = session.exec(
                select(Asset)
                .where(
                    Asset.owner_department_id == cast.department(department),
                    Asset.kind == kind,
                    Asset.state == AssetState.OPERATED,
                )
                .order_by(col(Asset.serial_number))
                .limit(_LINKED_PER_KIND)
            ).all()
            for asset in assets:
                register.update_asset(
                    session,
                    asset.id,
                    AssetUpdate(service_instance_ids=[instance_id]),
                    actor=operator,
                    expected_version=asset.version,
                )
                linked += 1
    return linked


def add_ratings(session: Session, cast: Cast, calendar: Calendar) -> str:
    """Every department rates every instance it uses for the last two months, and some already for this one;
    the bureau has closed the month before last."""
    rng = random.Random("ratings")
    written = 0
    schedule = [
        (calendar.month_before_last, calendar.last_month.first_day + timedelta(days=2), range(len(DEPARTMENTS))),
        (calendar.last_month, calendar.this_month.first_day + timedelta(days=2), range(len(DEPARTMENTS))),
        (calendar.this_month, calendar.today, range(0, len(DEPARTMENTS), 3)),  # early birds
    ]
    for month, day, raters in schedule:
        for index in raters:
            department = DEPARTMENTS[index]
            owned = session.exec(
                select(ServiceInstance.id)
                .where(ServiceInstance.department_id == cast.department(department))
                .order_by(col(ServiceInstance.id))
            ).all()
            if owned:
                with replaying(calendar.at(day, 9 + index % 8, 5 * index)):
                    rated = [_rating(rng, instance_id, month).model_dump(mode="json") for instance_id in owned]
                    items = RatingBatchIn(items=rated)
                    ratings.rate_batch(session, items, actor=cast[department_user(department)])
                written += len(owned)
    with replaying(calendar.at(calendar.last_month.first_day + timedelta(days=9), 15)):
        closed = _close_month(session, cast, calendar.month_before_last)
    return f"{written} ratings; {calendar.month_before_last} closed for {closed} contracts"


def has_ratings(session: Session, cast: Cast, calendar: Calendar) -> bool:
    return session.exec(select(Rating.id).limit(1)).first() is not None


def _rating(rng: random.Random, instance_id: uuid.UUID, month: Period) -> RatingIn:
    score = rng.choice([98, 96, 95, 93, 92, 90, 88, 86, 85, 82, 78, 72])
    spread = [max(0, min(100, score + rng.randint(-6, 6))) for _ in range(3)]
    comment = (
        "运行稳定，响应及时。"
        if score >= 90
        else "总体满意，个别故障处理偏慢。"
        if score >= 80
        else "本月故障较多，需改进。"
    )
    return RatingIn(
        service_instance_id=instance_id,
        period=str(month),
        score=score,
        dimensions=Dimensions(quality=spread[0], timeliness=spread[1], attitude=spread[2]),
        comment=comment,
    )


def _close_month(session: Session, cast: Cast, month: Period) -> int:
    bureau = cast[APPROVER]
    rows = session.exec(
        select(RatingPeriod)
        .join(Contract, col(Contract.id) == RatingPeriod.contract_id)
        .where(RatingPeriod.period == str(month))
        .order_by(col(Contract.number))
    ).all()
    for row in rows:
        periods.close(session, row.id, actor=bureau, expected_version=row.version)
    return len(rows)
