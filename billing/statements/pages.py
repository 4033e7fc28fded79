"""The console's statement pages: the operations center issues a draft, the bureau approves an issued statement (a
note optional) and resolves disputes (a reason required), a department reads its own lines and disputes one (a
reason required). The same services, flows, guards and scoping as the API's controllers; the version the page
showed in every form (a dispute is raised on the statement as it stands, as ``POST …/disputes`` is)."""

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from billing.statements import flows, service
from billing.statements.disputes.models import DisputeIn, DisputeOutcome, DisputeResolution, DisputeStatus
from billing.statements.models import StatementStatus
from opscenter import names
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.actor import Actor, CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pages import Done, Form, attempt, refusal_text, render, see_other, version_of
from opscenter.web import DbSession, Paging, get, post

PAGE = "/console/statements"
_DONE = {
    "issue": "已出具，已通知管理局与相关部门。",
    "approve": "已批准，结算单已锁定。",
    "dispute": "已提出申诉，等待管理局处理。",
    "resolve": "申诉已处理。",
}


def _reason(data: dict[str, str], field: str = "reason") -> str:
    text = data.get(field, "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput(field, "请填写理由（至多 2000 字）")
    return text


def _line_no(data: dict[str, str]) -> int:
    text = data.get("line_no", "")
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise InvalidInput("line_no", "请选择要申诉的明细行")
    return int(text)


def _resolution(data: dict[str, str]) -> DisputeResolution:
    """The bureau's decision, checked as the API's ``DisputeResolution`` checks it, each problem naming its field."""
    chosen = data.get("resolution", "")
    if chosen not in {outcome.value for outcome in DisputeOutcome}:
        raise InvalidInput("resolution", "请选择处理方式")
    outcome, reason, value = DisputeOutcome(chosen), _reason(data), data.get("value", "").strip()
    if outcome == DisputeOutcome.ACCEPTED:
        return DisputeResolution(resolution=outcome, reason=reason)
    if outcome == DisputeOutcome.MANUAL_SCORE:
        if not value.isdigit() or int(value) > 100:
            raise InvalidInput("value", "人工核定评分为 0 到 100 的整数")
        return DisputeResolution(resolution=outcome, score=int(value), reason=reason)
    try:
        availability = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("value", "人工核定可用率为百分数，如 99.95") from None
    if not Decimal(0) <= availability <= Decimal(100) or availability.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidInput("value", "人工核定可用率为 0 到 100 的百分数，至多四位小数")
    return DisputeResolution(resolution=outcome, availability=availability, reason=reason)


def _detail(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    statement_id: uuid.UUID,
    *,
    status: int = 200,
    problem: str = "",
    done: str | None = None,
) -> Response[str]:
    statement = service.get_statement(session, statement_id, actor=actor)
    detail = service.detail(session, statement, actor=actor)
    names.fill(session, detail)  # departments and services by name, as the API's answer has them
    return render(
        request,
        "statements/detail.html",
        status_code=status,
        statement=detail,
        open_lines={d.line_no for d in detail.disputes if d.status == DisputeStatus.OPEN},
        outcomes=list(DisputeOutcome),
        before_approval=statement.status in flows.BEFORE_APPROVAL,
        problem=problem,
        notice=_DONE.get(done or "", ""),
    )


def _act(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    statement_id: uuid.UUID,
    action: str,
    step: Callable[[], Any],
) -> Response[Any]:
    """Do ``step``; a refusal (a stale page, a wrong state, an unsettled line) shows the statement as it now
    stands, with what went wrong."""
    outcome = attempt(session, step)
    if isinstance(outcome, DomainError):
        return _detail(request, session, actor, statement_id, status=outcome.status, problem=refusal_text(outcome))
    return see_other(f"{PAGE}/{statement_id}", done=action)


class StatementPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        status: FromQuery[StatementStatus | None] = None,
    ) -> Response[str]:
        rows = service.list_statements(session, actor=actor, page=page, status=[status] if status else None)
        public = service.to_public(session, list(rows), actor=actor)
        names.fill(session, public)
        return render(
            request,
            "statements/list.html",
            rows=public,
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(StatementStatus),
        )

    @get("/{statement_id:uuid}")
    def read(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        done: Done = None,
    ) -> Response[str]:
        return _detail(request, session, actor, statement_id, done=done)

    @post("/{statement_id:uuid}/issue", guards=[allow(Role.OPERATOR)], status_code=200)
    def issue(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, statement_id, "issue",
            lambda: flows.issue(session, statement_id, actor=actor, expected_version=version_of(data)),
        )  # fmt: skip

    @post("/{statement_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        note = data.get("note", "").strip()
        return _act(
            request, session, actor, statement_id, "approve",
            lambda: flows.approve(
                session, statement_id, actor=actor, expected_version=version_of(data), note=note[:2000]
            ),
        )  # fmt: skip

    @post("/{statement_id:uuid}/disputes", guards=[allow(Role.BUREAU, Role.DEPARTMENT)], status_code=200)
    def dispute(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        return _act(
            request, session, actor, statement_id, "dispute",
            lambda: flows.open_dispute(
                session, statement_id, DisputeIn(line_no=_line_no(data), reason=_reason(data)), actor=actor
            ),
        )  # fmt: skip

    @post("/{statement_id:uuid}/disputes/{dispute_id:uuid}/resolve", guards=[allow(Role.BUREAU)], status_code=200)
    def resolve(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        statement_id: FromPath[uuid.UUID],
        dispute_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        dispute = service.get_dispute(session, dispute_id, actor=actor)
        if dispute.statement_id != statement_id:  # a dispute is reached through its own statement only
            raise InvalidInput("dispute_id", "这条申诉不属于这张结算单", parameter=True)
        return _act(
            request, session, actor, statement_id, "resolve",
            lambda: flows.resolve_dispute(
                session, dispute_id, _resolution(data), actor=actor, expected_version=version_of(data)
            ),
        )  # fmt: skip
