"""Domain errors, and the one place that turns every error into RFC 9457 problem+json.

Services raise the domain errors below; they never know about HTTP. The handlers at the bottom are
registered once, on the app, and cover Litestar's own errors (validation, 401, 403, 404, 405, 413),
stale writes (412), integrity races (409) and anything unexpected (500, with no traceback or SQL in
production).
"""

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """A business rule refused the request; ``status`` is the HTTP status it maps to."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad Request"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class NotFound(DomainError):
    """Missing, or not visible to the caller: both answer the same, byte for byte."""

    status = 404
    code = "not-found"
    title = "Not Found"

    def __init__(self, object_type: str) -> None:
        super().__init__(f"No {object_type} with this id.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    """The request is valid but the current state of things refuses it."""

    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule; always names the offending field."""

    status = 422
    code = "invalid-input"
    title = "Unprocessable Content"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[FieldError(field, message)])


class InvalidInputs(DomainError):
    """Several fields refused at once, each named: a batch names its items' fields as ``items.3.score``."""

    status = 422
    code = "invalid-input"
    title = "Unprocessable Content"

    def __init__(self, detail: str, errors: Sequence[FieldError]) -> None:
        super().__init__(detail, errors=errors)


class InvalidParameter(DomainError):
    """A bad query, path or header value; names the parameter."""

    status = 400
    code = "invalid-input"
    title = "Bad Request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[FieldError(field, message)])


class PreconditionFailed(DomainError):
    status = 412
    code = "stale-version"
    title = "Precondition Failed"

    def __init__(self, detail: str = "The object changed since you read it; fetch it again and retry.") -> None:
        super().__init__(detail)


class PreconditionRequired(DomainError):
    status = 428
    code = "version-required"
    title = "Precondition Required"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": f"urn:opscenter:problem:{code}", "title": title, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


UNAUTHENTICATED_DETAIL = "A valid API key is required: Authorization: Bearer <key>."


def _domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    messages = exc.extra if isinstance(exc.extra, list) else []
    errors = [FieldError(str(m.get("key") or "request"), str(m.get("message"))) for m in messages]
    # A body that parses but breaks the schema is 422; a bad query, path or header value is 400.
    # (Errors raised inside a pydantic body model carry no source: Litestar only tags parameters.)
    in_body = any(m.get("source", "body") == "body" for m in messages)
    status, title = (422, "Unprocessable Content") if in_body else (400, "Bad Request")
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    return problem(status, "invalid-input", title, summary, errors=errors)


def _unauthenticated(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[dict[str, Any]]:
    # One body for missing, malformed, unknown, revoked and expired keys: no oracle for probing keys.
    return problem(
        401,
        "unauthenticated",
        "Unauthorized",
        UNAUTHENTICATED_DETAIL,
        headers={"WWW-Authenticate": 'Bearer realm="opscenter"'},
    )


_HTTP_CODES = {403: "forbidden", 404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:  # raised by Litestar on purpose (e.g. the client hung up mid-body): no traceback needed
        log.warning("%s %s: %s", request.method, request.url.path, exc.detail)
        detail = str(exc.detail) if request.app.debug else "An internal error occurred; it has been logged."
        return problem(status, "internal", _phrase(status), detail)
    headers = dict(exc.headers or {})
    detail = str(exc.detail)
    if status == 413:
        detail = f"The request body is larger than {request.app.request_max_body_size} bytes."
    return problem(status, _HTTP_CODES.get(status, "bad-request"), _phrase(status), detail, headers=headers)


def _stale(_: Request[Any, Any, Any], __: StaleDataError) -> Response[dict[str, Any]]:
    exc = PreconditionFailed()
    return problem(exc.status, exc.code, exc.title, exc.detail)


def _integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    # Services check uniqueness first; this is the race where two requests passed that check together.
    log.info("integrity race on %s %s: %s", request.method, request.url.path, exc.orig)
    return problem(409, "conflict", "Conflict", "The request conflicts with a concurrent change; retry it.")


def _operational(request: Request[Any, Any, Any], exc: OperationalError) -> Response[dict[str, Any]]:
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
    return problem(
        503,
        "unavailable",
        "Service Unavailable",
        "The database is unavailable; retry shortly.",
        headers={"Retry-After": "5"},
    )


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    extra: dict[str, Any] = {}
    if not request.app.debug:
        detail = "An internal error occurred; it has been logged."
    else:
        detail = repr(exc)
        extra["traceback"] = traceback.format_exception(exc)
    return problem(500, "internal", "Internal Server Error", detail, extra=extra)


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase


ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def _with_request_id(handler: ExceptionHandler) -> ExceptionHandler:
    """Errors raised before the request-id middleware could tag the answer (a 401) carry the id too."""

    def tagged(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        response = handler(request, exc)
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            response.headers.setdefault("X-Request-ID", str(request_id))
        return response

    return tagged


_HANDLERS: dict[type[Exception] | int, ExceptionHandler] = {
    DomainError: _domain,
    ValidationException: _validation,
    NotAuthorizedException: _unauthenticated,
    HTTPException: _http,
    StaleDataError: _stale,
    IntegrityError: _integrity,
    OperationalError: _operational,
    Exception: _internal,
}
EXCEPTION_HANDLERS = {exception: _with_request_id(handler) for exception, handler in _HANDLERS.items()}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "InvalidInputs",
    "InvalidParameter",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "problem",
]
