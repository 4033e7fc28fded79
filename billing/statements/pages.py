"""The console's statement pages: the operations center issues a draft, the bureau approves an issued statement (a
note optional) and resolves disputes (a reason required), a department reads its own lines and disputes one (a
reason required). The same services, flows, guards and scoping as the API's controllers; the version the page
showed in every form (a dispute is raised on the statement as it stands, as ``POST …/disputes`` is)."""

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlmodel import Session

from billing.statements import flows, service
from billing.statements.disputes.models import DisputeIn, DisputeOutcome, DisputeResolution, DisputeStatus
from billing.statements.models import StatementStatus
from opscenter import names
from opscenter.errors import DomainError, InvalidInput
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.pages import AtDesk, Desk, Done, Form, act, refusal_text, render, version_of
from opscenter.web import DbSession, get, post

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


def _detail(desk: Desk, session: Session, statement_id: uuid.UUID, refusal: DomainError | None = None) -> Response[str]:
    """The statement as it now stands; after a refused step (a stale page, a wrong state, an unsettled line), with
    what went wrong."""
    statement = service.get_statement(session, statement_id, actor=desk.actor)
    detail = service.detail(session, statement, actor=desk.actor)
    names.fill(session, detail)  # departments and services by name, as the API's answer has them
    return render(
        desk.request,
        "statements/detail.html",
        status_code=refusal.status if refusal else 200,
        statement=detail,
        open_lines={d.line_no for d in detail.disputes if d.status == DisputeStatus.OPEN},
        outcomes=list(DisputeOutcome),
        before_approval=statement.status in flows.BEFORE_APPROVAL,
        problem=refusal_text(refusal) if refusal else "",
        notice=_DONE.get(desk.request.query_params.get("done", ""), ""),
    )


def _act(desk: Desk, session: Session, statement_id: uuid.UUID, done: str, step: Callable[[], Any]) -> Response[Any]:
    refused = partial(_detail, desk, session, statement_id)
    return act(session, step, then=f"{PAGE}/{statement_id}", done=done, refused=refused)


class StatementPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(*BUSINESS_ROLES)]

    @get("/")
    def index(
        self, session: DbSession, desk: AtDesk, status: FromQuery[StatementStatus | None] = None
    ) -> Response[str]:
        rows = service.list_statements(session, actor=desk.actor, page=desk.page, status=[status] if status else None)
        public = service.to_public(session, list(rows), actor=desk.actor)
        names.fill(session, public)
        return render(
            desk.request,
            "statements/list.html",
            rows=public,
            next_cursor=rows.next_cursor,
            status=status,
            statuses=list(StatementStatus),
        )

    @get("/{statement_id:uuid}")
    def read(
        self, session: DbSession, desk: AtDesk, statement_id: FromPath[uuid.UUID], done: Done = None
    ) -> Response[str]:
        return _detail(desk, session, statement_id)

    @post("/{statement_id:uuid}/issue", guards=[allow(Role.OPERATOR)], status_code=200)
    def issue(self, session: DbSession, desk: AtDesk, statement_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, statement_id, "issue", lambda: flows.issue(
            session, statement_id, actor=desk.actor, expected_version=version_of(data)
        ))  # fmt: skip

    @post("/{statement_id:uuid}/approve", guards=[allow(Role.BUREAU)], status_code=200)
    def approve(self, session: DbSession, desk: AtDesk, statement_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        note = data.get("note", "").strip()[:2000]
        return _act(desk, session, statement_id, "approve", lambda: flows.approve(
            session, statement_id, actor=desk.actor, expected_version=version_of(data), note=note
        ))  # fmt: skip

    @post("/{statement_id:uuid}/disputes", guards=[allow(Role.BUREAU, Role.DEPARTMENT)], status_code=200)
    def dispute(self, session: DbSession, desk: AtDesk, statement_id: FromPath[uuid.UUID], data: Form) -> Response[Any]:
        return _act(desk, session, statement_id, "dispute", lambda: flows.open_dispute(
            session, statement_id, DisputeIn(line_no=_line_no(data), reason=_reason(data)), actor=desk.actor
        ))  # fmt: skip

    @post("/{statement_id:uuid}/disputes/{dispute_id:uuid}/resolve", guards=[allow(Role.BUREAU)], status_code=200)
    def resolve(
        self,
        session: DbSession,
        desk: AtDesk,
        statement_id: FromPath[uuid.UUID],
        dispute_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        dispute = service.get_dispute(session, dispute_id, actor=desk.actor)
        if dispute.statement_id != statement_id:  # a dispute is reached through its own statement only
            raise InvalidInput("dispute_id", "这条申诉不属于这张结算单", parameter=True)
        return _act(desk, session, statement_id, "resolve", lambda: flows.resolve_dispute(
            session, dispute_id, _resolution(data), actor=desk.actor, expected_version=version_of(data)
        ))  # fmt: skip
