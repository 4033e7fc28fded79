"""The ratings API that departments' own systems integrate with (DESIGN §6), and rating periods."""

import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody

from opscenter.audit import service as audit
from opscenter.audit.models import AuditEventPublic
from opscenter.errors import JSON_MAX_TOKENS
from opscenter.idempotency.web import IdempotencyKey, idempotent_post
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, WITHOUT_OPERATIONS, allow
from opscenter.identity.models import Role
from opscenter.openapi import ALSO_ANSWERS, LOCATION
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Paging, PeriodQuery, as_period, get, post, put, respond
from sla.ratings import periods, service, summary
from sla.ratings.models import (
    RatingBatchIn,
    RatingBatchPublic,
    RatingIn,
    RatingPeriodPublic,
    RatingPeriodStatus,
    RatingPublic,
    RatingSummary,
    RatingUpdate,
)

# 500 ratings with 2000-character Chinese comments fit, sent as UTF-8 (3 MB; as \uXXXX escapes they would be 6 MB).
BATCH_MAX_BODY_BYTES = 4 * 1024 * 1024
# A valid batch holds at most 2 + 500 × 20 JSON tokens (an item: its brackets, 8 keys, 3 strings, 7 commas, with
# its dimensions). Four megabytes of anything else would decode into a hundred megabytes of objects, or hundreds of
# thousands of unknown fields, each a validation error: refused unread beyond this.
BATCH_MAX_JSON_TOKENS = 12_000

Answer = Response[RatingPublic]


def _answer(rating: object, *, created: bool = False) -> Answer:
    public = RatingPublic.model_validate(rating)
    return respond(public, created=f"/api/v1/ratings/{public.id}" if created else None)


class RatingController(Controller):
    path = "/api/v1/ratings"
    tags = ["ratings"]
    guards = [allow(*BUSINESS_ROLES)]

    @idempotent_post(
        "/",
        guards=[allow(Role.DEPARTMENT)],
        summary="Rate a service instance for a month",
        description="One rating per department, instance and month, for a month that has begun (Asia/Shanghai), "
        "of an instance the department uses under a contract line in force that month (else 422 naming "
        "`service_instance_id`, the same for a missing instance and another department's). "
        "A second rating of the same instance and month is 409 naming the first: revise it with PUT. "
        "Requires `Idempotency-Key`: a retry with the same key and body answers as the first time.",
    )
    def create(
        self,
        session: DbSession,
        actor: CurrentActor,
        data: JSONBody[RatingIn],
        idempotency_key: IdempotencyKey,
    ) -> Answer:
        return _answer(service.rate(session, data, actor=actor), created=True)

    @idempotent_post(
        "/batch",
        guards=[allow(Role.DEPARTMENT)],
        request_max_body_size=BATCH_MAX_BODY_BYTES,
        opt={
            JSON_MAX_TOKENS: BATCH_MAX_JSON_TOKENS,
            LOCATION: "The ratings, newest first, where the batch's ratings now are; each item's own URL is "
            "/api/v1/ratings/{id}.",
        },
        summary="Rate up to 500 instance-months at once",
        description="All or nothing: when any item is refused nothing is written, and the 422 names every "
        "refused item's field by its index (`items.3.period`; the first 200 problems, and `error_count` when there "
        "are more). At most 4 MiB, and 12,000 JSON strings, commas and brackets (a body holding more is refused "
        "unread). "
        "Requires `Idempotency-Key`.",
    )
    def create_batch(
        self,
        session: DbSession,
        actor: CurrentActor,
        data: JSONBody[RatingBatchIn],
        idempotency_key: IdempotencyKey,
    ) -> Response[RatingBatchPublic]:
        ratings = service.rate_batch(session, data, actor=actor)
        batch = RatingBatchPublic(count=len(ratings), items=[RatingPublic.model_validate(row) for row in ratings])
        return respond(batch, created="/api/v1/ratings")

    @get(
        "/", guards=[allow(*WITHOUT_OPERATIONS)], description="A department reads its own; the bureau and auditors all."
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        period: PeriodQuery = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
        department_id: FromQuery[uuid.UUID | None] = None,
    ) -> CursorPage[RatingPublic]:
        rows = service.list_ratings(
            session,
            actor=actor,
            page=page,
            period=as_period(period),
            service_instance_id=service_instance_id,
            department_id=department_id,
        )
        return rows.page_of([RatingPublic.model_validate(row) for row in rows])

    @get(
        "/summary",
        opt={ALSO_ANSWERS: (404,)},
        description="Aggregates only, for every business role: count, mean score, dimension means and the "
        "distribution over score bands; never who rated, never comments. A department's summary covers its own.",
    )
    def summary(
        self,
        session: DbSession,
        actor: CurrentActor,
        period: PeriodQuery = None,
        service_instance_id: FromQuery[uuid.UUID | None] = None,
    ) -> RatingSummary:
        return summary.summarize(
            session, actor=actor, period=as_period(period), service_instance_id=service_instance_id
        )

    @get("/{rating_id:uuid}", guards=[allow(*WITHOUT_OPERATIONS)])
    def read(self, session: DbSession, actor: CurrentActor, rating_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(service.get_rating(session, rating_id, actor=actor))

    @put(
        "/{rating_id:uuid}",
        guards=[allow(Role.DEPARTMENT)],
        description="Replaces score, dimensions and comment (omitted ones become empty) until the contract's "
        "month is closed (then 409). Needs If-Match.",
    )
    def revise(
        self,
        session: DbSession,
        actor: CurrentActor,
        rating_id: FromPath[uuid.UUID],
        data: JSONBody[RatingUpdate],
        expected_version: ExpectedVersion,
    ) -> Answer:
        return _answer(service.revise(session, rating_id, data, actor=actor, expected_version=expected_version))

    @get(
        "/{rating_id:uuid}/history",
        guards=[allow(*WITHOUT_OPERATIONS)],
        description="The rating as given and every revision, oldest first, with what changed.",
    )
    def history(
        self, session: DbSession, actor: CurrentActor, rating_id: FromPath[uuid.UUID], page: Paging
    ) -> CursorPage[AuditEventPublic]:
        rows = audit.history(session, service.get_rating(session, rating_id, actor=actor), page=page)
        return rows.page_of([AuditEventPublic.model_validate(row) for row in rows])


class RatingPeriodController(Controller):
    path = "/api/v1/rating-periods"
    tags = ["ratings"]
    guards = [allow(*BUSINESS_ROLES)]

    @get("/", description="A contract's month appears once somebody rated it or it was closed.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        contract_id: FromQuery[uuid.UUID | None] = None,
        period: PeriodQuery = None,
        status: AnyOf[RatingPeriodStatus] = None,
    ) -> CursorPage[RatingPeriodPublic]:
        rows = periods.list_periods(
            session, actor=actor, page=page, contract_id=contract_id, period=as_period(period), status=status
        )
        return rows.page_of([RatingPeriodPublic.model_validate(row) for row in rows])

    @get("/{period_id:uuid}")
    def read(
        self, session: DbSession, actor: CurrentActor, period_id: FromPath[uuid.UUID]
    ) -> Response[RatingPeriodPublic]:
        return respond(RatingPeriodPublic.model_validate(periods.get_period(session, period_id, actor=actor)))

    @post(
        "/{period_id:uuid}/close",
        guards=[allow(Role.BUREAU)],
        status_code=200,
        description="No rating of this contract's month is written or revised after this. Billing closes it "
        "too, when it approves the month's statement.",
    )
    def close(
        self,
        session: DbSession,
        actor: CurrentActor,
        period_id: FromPath[uuid.UUID],
        expected_version: ExpectedVersion,
    ) -> Response[RatingPeriodPublic]:
        row = periods.close(session, period_id, actor=actor, expected_version=expected_version)
        return respond(RatingPeriodPublic.model_validate(row))
