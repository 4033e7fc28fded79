"""The console's ratings page: a department's services to rate this month (score 0–100 and a comment), and the
ratings it gave; the bureau and auditors read every department's. The same service (and refusals) as the API's
``POST /api/v1/ratings``; the operations center never sees who rated what (管运分离)."""

import dataclasses
import uuid
from functools import partial
from typing import Any

from litestar import Controller, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from contracts.instances import service as instances
from contracts.instances.models import ServiceInstance
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.guards import WITHOUT_OPERATIONS, allow
from opscenter.identity.models import Role
from opscenter.pages import AtDesk, Desk, Form, act, refusal_text, render
from opscenter.timekeeping import Period, today
from opscenter.web import DbSession, get, post
from sla.ratings import service
from sla.ratings.models import RatingIn
from sla.ratings.usage import instances_in_use

PAGE = "/console/ratings"


def _rating(data: dict[str, str]) -> RatingIn:
    try:
        return RatingIn(
            service_instance_id=uuid.UUID(data.get("service_instance_id", "")),
            period=str(Period.of(today())),
            score=int(data.get("score", "")),
            comment=data.get("comment") or None,
        )
    except (ValueError, ValidationError) as exc:
        raise InvalidInput("score", "请为服务打 0 到 100 分") from exc


def _page(desk: Desk, session: Session, refusal: DomainError | None = None) -> Response[str]:
    """The month's ratings; after a refused rating, with what went wrong."""
    actor, month = desk.actor, Period.of(today())
    given = list(service.list_ratings(session, actor=actor, page=desk.page, period=month))
    due: list[ServiceInstance] = []
    if actor.role == Role.DEPARTMENT:
        every = dataclasses.replace(desk.page, limit=500, cursor=None)
        used = instances.list_instances(session, actor=actor, page=every)
        ratable = instances_in_use(
            session, department_id=actor.required_organization_id, wanted={(row.id, month) for row in used}
        )
        rated = {rating.service_instance_id for rating in given}
        due = [row for row in used if (row.id, month) in ratable and row.id not in rated]
    ids = {rating.service_instance_id for rating in given}
    names = dict(
        session.exec(select(ServiceInstance.id, ServiceInstance.name).where(col(ServiceInstance.id).in_(ids))).all()
    )
    return render(
        desk.request,
        "ratings/index.html",
        status_code=refusal.status if refusal else 200,
        month=str(month),
        due=due,
        given=given,
        names=names,
        notice="评价已提交。" if desk.request.query_params.get("done") else "",
        problem=refusal_text(refusal) if refusal else "",
    )


class RatingPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*WITHOUT_OPERATIONS)]

    @get("/")
    def index(self, session: DbSession, desk: AtDesk) -> Response[str]:
        return _page(desk, session)

    @post("/", guards=[allow(Role.DEPARTMENT)], status_code=200)
    def rate(self, session: DbSession, desk: AtDesk, data: Form) -> Response[Any]:
        return act(
            session,
            lambda: service.rate(session, _rating(data), actor=desk.actor),
            then=PAGE,
            done="1",
            refused=partial(_page, desk, session),
        )
