"""What every console page needs, whichever domain it belongs to: rendering a template for the person at the desk,
figures and times as people read them, the version an action form carries, and one gate that every console route
passes (the CSRF token of the person's session; a password the person must change first).

A domain's ``pages.py`` uses this module as its ``controller.py`` uses ``opscenter.web``: the same decorators, the
same transaction, the same services and flows. Its handlers declare ``session: DbSession, desk: AtDesk`` (who acts,
from which request, on which page), and each action on an object from a form is one call of ``act``: the flow
step, the page that shows its outcome, and the page that shows a refusal. The wiring (``opscenter/console``) mounts
the pages under ``/console`` behind ``person_gate`` and gives the template engine its templates and the filters
below.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, QueryParameter
from sqlmodel import Session

from opscenter.auth import sessions
from opscenter.auth.middleware import PersonSession
from opscenter.errors import DomainError, InvalidInput, PasswordChangeRequired
from opscenter.identity.actor import Actor
from opscenter.money import format_amount, from_fen
from opscenter.pagination import PageRequest
from opscenter.timekeeping import SHANGHAI, as_utc

T = TypeVar("T")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# A handler's ``opt``: reachable while the person must still change the password an admin set (the password page
# itself, logging out).
BEFORE_PASSWORD_CHANGE = "before_password_change"  # noqa: S105 (an opt key, not a password)
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

# What the page after a form declares, ``done: Done = None``: the step ``see_other`` says was done, for its notice
# (a query parameter the handler does not declare is refused, opscenter/parameters.py).
Done = Annotated[str | None, QueryParameter(description="The step just done")]
# What a form handler declares: ``data: Form`` (URL-encoded fields as a dict of strings).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass(frozen=True)
class Desk:
    """What a console handler serves the person with, besides the transaction: the request (to render a page), the
    person acting, and the paging the page asked for. (``session`` stays a parameter of its own: the house decorators
    end the handler's transaction with it.)"""

    request: Request[Any, Any, Any]
    actor: Actor
    page: PageRequest


def provide_desk(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], page: NamedDependency[PageRequest]
) -> Desk:
    return Desk(request=request, actor=actor, page=page)


# What a console handler declares: ``desk: AtDesk``; the console's router registers ``DEPENDENCIES``.
AtDesk = NamedDependency[Desk]
DEPENDENCIES = {"desk": Provide(provide_desk, sync_to_thread=False)}


async def person_gate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Every console route's first guard. For a person with a session cookie (a machine with a key needs neither):
    a request that changes something carries the session's CSRF token (form field ``csrf_token``, or header
    ``X-CSRF-Token`` as HTMX sends it from ``hx-headers``), else 403 and nothing happens; and a person whose
    password an admin set sees only the page to change it."""
    person = connection.scope.get("auth")
    if not isinstance(person, PersonSession):
        return
    if connection.scope.get("method") not in _SAFE:
        sent = connection.headers.get(CSRF_HEADER)
        if sent is None and isinstance(connection, Request):
            sent = (await connection.form()).get(CSRF_FIELD)
        if not sessions.csrf_matches(person.token, sent if isinstance(sent, str) else None):
            raise PermissionDeniedException("This form is missing its CSRF token, or it is not this session's.")
    if person.must_change_password and not handler.opt.get(BEFORE_PASSWORD_CHANGE):
        raise PasswordChangeRequired("Choose your own password first.")


def render(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Response[str]:
    """The page ``template`` rendered with ``context`` and what every page shows (who is logged in, the session's
    CSRF token). Rendered in the handler's thread, inside its transaction, so lazy attributes still load."""
    person = request.scope.get("auth")
    engine = request.app.template_engine
    if engine is None:
        raise RuntimeError("the console's pages need the template engine the wiring configures")
    html = engine.get_template(template).render(
        request=request,
        actor=request.scope.get("user"),
        person=person if isinstance(person, PersonSession) else None,
        csrf_token=person.csrf_token if isinstance(person, PersonSession) else "",
        **context,
    )
    return Response(html, status_code=status_code, media_type="text/html; charset=utf-8")


def see_other(path: str, **query: str) -> Response[bytes]:
    """After a form: 303 to the page that shows the outcome (reloading it never posts the form again)."""
    target = f"{path}?{urlencode(query)}" if query else path
    return Response(b"", status_code=303, headers={"Location": target})


def version_of(form: Mapping[str, str]) -> int:
    """The version of the object as the form's page showed it (hidden field ``version``)."""
    text = form.get("version", "")
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput("version", "这个表单缺少对象的版本号；请刷新页面后重试")
    return int(text)


def attempt(session: Session, action: Callable[[], T]) -> T | DomainError:
    """Run a service or flow step; when a business rule refuses it (a stale version, a wrong state, a bad input),
    undo whatever it did and return the refusal, so that the page shows it beside the object's current state."""
    try:
        with session.begin_nested():  # rolled back when the step raises
            return action()
    except DomainError as refusal:
        return refusal


def act(
    session: Session,
    step: Callable[[], T],
    *,
    then: str | Callable[[T], str],
    done: str,
    refused: Callable[[DomainError], Response[str]],
    **query: str,
) -> Response[Any]:
    """An action on an object from a form: do ``step`` (the flow or service call, which reads the form's version
    and fields itself); done, 303 to ``then`` (a path, or the path of what the step made) with ``done`` naming the
    step for the notice, after ``query``; refused by a business rule (a stale version is 412, a wrong state, a bad
    input), nothing of it stays and ``refused`` renders the object as it now stands with the refusal."""
    outcome = attempt(session, step)
    if isinstance(outcome, DomainError):
        return refused(outcome)
    return see_other(then(outcome) if callable(then) else then, **query, done=done)


def refusal_text(refusal: DomainError) -> str:
    """What a person reads about a refusal: a stale version said plainly, field errors listed."""
    if refusal.status == 412:
        return "提交失败：此对象已被他人修改，下面显示的是当前状态，请核对后重新操作。"
    if refusal.errors:
        return "；".join(f"{error.field}：{error.message}" for error in refusal.errors)
    return refusal.detail


# Filters the wiring registers on the template engine.


def yuan(fen: int | None) -> str:
    """Integer fen as people read an amount: ¥1,234.56."""
    if fen is None:
        return "—"
    amount = from_fen(fen)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def yuan_amount(amount: Decimal | str | None) -> str:
    """A Decimal (or the API's two-decimal string) as people read it."""
    if amount is None:
        return "—"
    value = Decimal(format_amount(Decimal(amount)))
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def local_time(instant: datetime | None) -> str:
    """An instant as people in the province read it: Asia/Shanghai, with the date."""
    if instant is None:
        return "—"
    return as_utc(instant).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def local_date(day: date | None) -> str:
    return "—" if day is None else day.isoformat()


def label(value: Any) -> str:
    """An enum's Chinese label where it has one (``LabeledEnum``), else its value."""
    return str(getattr(value, "label", value))


FILTERS: dict[str, Callable[..., str]] = {
    "yuan": yuan,
    "yuan_amount": yuan_amount,
    "local_time": local_time,
    "local_date": local_date,
    "label": label,
}


def can(actor: Actor | None, *roles: Any) -> bool:
    return actor is not None and actor.role in roles
