"""Ratings as records: rating (one or a batch), revising, reading, and who sees what.

A department rates the instances it uses under a contract line in force that month, once per
instance and month, for months that have begun (Asia/Shanghai), while the contract's month is open.
It reads and revises its own ratings; the bureau and auditors read all; the operations center reads
aggregates only (summary.py), never a rating.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, false
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.db import core_table, insert_new
from opscenter.errors import Conflict, FieldError, InvalidInput, InvalidInputs
from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.schemas import unknown_field_message
from opscenter.scoping import get_visible
from opscenter.timekeeping import Period, today
from sla.ratings import periods
from sla.ratings.followers import followed
from sla.ratings.models import Rating, RatingBatchIn, RatingContent, RatingIn, RatingUpdate
from sla.ratings.usage import instances_in_use

_READ_ALL = (Role.BUREAU, Role.AUDITOR, Role.ADMIN)


def _scoped(query: SelectOfScalar[Rating], actor: Actor) -> SelectOfScalar[Rating]:
    """A department sees its own ratings; the bureau and auditors all; the operations center none."""
    if actor.is_department:
        return query.where(Rating.department_id == actor.required_organization_id)
    if actor.is_system or actor.role in _READ_ALL:
        return query
    return query.where(false())


def get_rating(session: Session, rating_id: uuid.UUID, *, actor: Actor, for_update: bool = False) -> Rating:
    return get_visible(session, Rating, rating_id, actor=actor, scope=_scoped, noun="rating", for_update=for_update)


def list_ratings(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    period: Period | None = None,
    service_instance_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
) -> Slice[Rating]:
    query = _scoped(select(Rating).order_by(col(Rating.id).desc()), actor)
    if period is not None:
        query = query.where(Rating.period == str(period))
    if service_instance_id is not None:
        query = query.where(Rating.service_instance_id == service_instance_id)
    if department_id is not None:
        query = query.where(Rating.department_id == department_id)
    return keyset(session, query, page)


NOT_RATEABLE = "no service instance your department uses under a contract line in force that month"


@dataclass(frozen=True)
class Refusal:
    """Why one rating cannot be written; ``status`` is what a single POST answers."""

    status: int
    field: str
    message: str


def rate(session: Session, data: RatingIn, *, actor: Actor) -> Rating:
    """Write the caller's department's rating of one instance for one month.

    422 naming ``service_instance_id`` for an instance the department does not use under a line in force that
    month (missing and another department's answer alike), 422 for a month that has not begun, 409 naming the
    existing rating, or when the month is closed.
    """
    with followed(session, [(data.service_instance_id, data.period)], actor=actor):
        checked = _check(session, [data], actor=actor)
        refusal = next(iter(checked.refusals.values()), None)
        if refusal is not None:
            raise _as_error(refusal)
        return _write(session, [data], checked, actor=actor)[0]


def rate_batch(session: Session, data: RatingBatchIn, *, actor: Actor) -> list[Rating]:
    """Write every rating of the batch, in order, or none: 422 naming each refused item as ``items.N.field``, the
    items that break the schema and those that break a rule together, in item order."""
    errors: list[tuple[int, FieldError]] = []
    valid: dict[int, RatingIn] = {}
    for index, raw in enumerate(data.items):
        try:
            valid[index] = RatingIn.model_validate(raw)
        except ValidationError as exc:
            errors += [(index, _item_error(index, problem)) for problem in exc.errors()]
    positions = list(valid)
    items = list(valid.values())
    with followed(session, {(item.service_instance_id, item.period) for item in items}, actor=actor):
        checked = _check(session, items, actor=actor)
        errors += [
            (positions[at], FieldError(f"items.{positions[at]}.{refusal.field}", refusal.message))
            for at, refusal in checked.refusals.items()
        ]
        if errors:
            refused = {index for index, _ in errors}
            raise InvalidInputs(
                f"Nothing was written: {len(refused)} of the {len(data.items)} ratings cannot be accepted.",
                [error for _, error in sorted(errors, key=lambda pair: pair[0])],
            )
        return _write(session, items, checked, actor=actor)


def _item_error(index: int, problem: Any) -> FieldError:
    """A schema problem of item ``index`` as the API names it (``items.2.score``), in the body's own words."""
    where = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = unknown_field_message(str(problem["loc"][-1]))
    return FieldError(f"items.{index}.{where}" if where else f"items.{index}", message)


def revise(
    session: Session, rating_id: uuid.UUID, data: RatingUpdate, *, actor: Actor, expected_version: int
) -> Rating:
    """Replace a rating's score, dimensions and comment, while its contract's month is open (else 409): until
    the month's statement is approved (DESIGN §6), whose line then follows the new score (billing's follower)."""
    rating = get_rating(session, rating_id, actor=actor, for_update=True)
    rating.require_version(expected_version)
    with followed(session, [(rating.service_instance_id, rating.period)], actor=actor):
        if periods.hold_open(session, [(rating.contract_id, rating.period)], actor=actor):
            raise Conflict(_closed_message(rating.period))
        with audit.change(session, actor=actor, action="rating.revise", row=rating):
            _apply(rating, data)
            rating.revised_by_id = actor.user_id
        session.flush()
    return rating


@dataclass
class _Checked:
    contract_of: dict[int, uuid.UUID]
    refusals: dict[int, Refusal]


def _check(session: Session, items: Sequence[RatingIn], *, actor: Actor) -> _Checked:
    """Every rule, for every item, in a fixed number of queries; the refusals by item index."""
    department_id, started_by = actor.required_organization_id, today()
    refusals: dict[int, Refusal] = {}
    months = {index: Period.parse(item.period) for index, item in enumerate(items)}
    for index, month in months.items():
        if month.first_day > started_by:
            refusals[index] = Refusal(
                422, "period", f"{month} has not begun (Asia/Shanghai); rate it from its first day"
            )
    wanted = [(item.service_instance_id, months[index]) for index, item in enumerate(items) if index not in refusals]
    in_use = instances_in_use(session, department_id=department_id, wanted=wanted)
    contract_of: dict[int, uuid.UUID] = {}
    first_index: dict[tuple[uuid.UUID, str], int] = {}
    for index, item in enumerate(items):
        if index in refusals:
            continue
        contract_id = in_use.get((item.service_instance_id, months[index]))
        if contract_id is None:
            # A body's reference that leads nowhere the caller may rate is bad input, as in every domain (422
            # naming the field); the message is the same for another department's instance and a missing one.
            refusals[index] = Refusal(422, "service_instance_id", NOT_RATEABLE)
            continue
        pair = (item.service_instance_id, item.period)
        if pair in first_index:
            refusals[index] = Refusal(
                422, "service_instance_id", f"rates the same instance and month as items.{first_index[pair]}"
            )
            continue
        first_index[pair] = index
        contract_of[index] = contract_id
    _refuse_existing(session, items, contract_of, refusals, department_id=department_id)
    closed = periods.hold_open(session, {(contract_of[i], items[i].period) for i in contract_of}, actor=actor)
    for index in list(contract_of):
        if (contract_of[index], items[index].period) in closed:
            refusals[index] = Refusal(409, "period", _closed_message(items[index].period))
            del contract_of[index]
    return _Checked(contract_of, refusals)


def _refuse_existing(
    session: Session,
    items: Sequence[RatingIn],
    contract_of: dict[int, uuid.UUID],
    refusals: dict[int, Refusal],
    *,
    department_id: uuid.UUID,
) -> None:
    if not contract_of:
        return
    wanted = {
        "department_id": department_id,
        "instance_ids": list({items[i].service_instance_id for i in contract_of}),
        "periods": list({items[i].period for i in contract_of}),
    }
    existing = {
        (instance_id, period): rating_id
        for rating_id, instance_id, period in session.connection().execute(_EXISTING, wanted)
    }
    for index in list(contract_of):
        rating_id = existing.get((items[index].service_instance_id, items[index].period))
        if rating_id is not None:
            refusals[index] = Refusal(
                409,
                "service_instance_id",
                f"already rated for {items[index].period}: rating {rating_id}; "
                f"revise it with PUT /api/v1/ratings/{rating_id}",
            )
            del contract_of[index]


_RATINGS = core_table(Rating)
# Built once, executed with parameters (building it per rating cost more than running it).
_EXISTING = sa_select(_RATINGS.c.id, _RATINGS.c.service_instance_id, _RATINGS.c.period).where(
    _RATINGS.c.department_id == bindparam("department_id"),
    _RATINGS.c.service_instance_id.in_(bindparam("instance_ids", expanding=True)),
    _RATINGS.c.period.in_(bindparam("periods", expanding=True)),
)


def _write(session: Session, items: Sequence[RatingIn], checked: _Checked, *, actor: Actor) -> list[Rating]:
    ratings = []
    for index, item in enumerate(items):
        rating = Rating(
            department_id=actor.required_organization_id,
            service_instance_id=item.service_instance_id,
            contract_id=checked.contract_of[index],
            period=item.period,
            score=0,
            rated_by_id=actor.user_id,
        )
        _apply(rating, item)
        ratings.append(rating)
    # Inserted in key order: two writers racing on the same ratings then wait in line, never crosswise.
    in_key_order = sorted(ratings, key=lambda rating: (rating.service_instance_id, rating.period))
    insert_new(session, in_key_order)
    for rating in in_key_order:
        audit.record_create(session, actor=actor, action="rating.create", row=rating)
    return ratings


def _apply(rating: Rating, content: RatingContent) -> None:
    rating.score, rating.comment = content.score, content.comment
    dimensions = content.dimensions
    rating.quality = dimensions.quality if dimensions else None
    rating.timeliness = dimensions.timeliness if dimensions else None
    rating.attitude = dimensions.attitude if dimensions else None


def _closed_message(period: str) -> str:
    return f"Ratings for {period} are closed for this contract; they can no longer be written or revised."


def _as_error(refusal: Refusal) -> Exception:
    if refusal.status == 409:
        return Conflict(refusal.message, errors=[FieldError(refusal.field, refusal.message)])
    return InvalidInput(refusal.field, refusal.message)
