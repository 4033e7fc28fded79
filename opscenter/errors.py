"""Domain errors, and the one place that turns every error into RFC 9457 problem+json.

Services raise the domain errors below; they never know about HTTP. The handlers at the bottom are
registered once, on the app, and cover Litestar's own errors (validation, 401, 403, 404, 405, 413),
stale writes (412), integrity races (409) and anything unexpected (500, with no traceback, SQL or file
path unless the ``debug`` setting asks for them; the server log has them either way).
"""

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, ValidationException
from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel

from opscenter.schemas import unknown_field_message

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

INPUT_POLICY = """\
**400 or 422.** A request the server cannot read as this operation's request is **400 Bad Request**: a query,
path or header parameter of the wrong form or out of its bounds (a `limit` above the page size, an instant
that is not RFC 3339, an `If-Match` that is not one ETag, a query parameter the operation does not take or a
single-valued one given twice), or a body that is not JSON (malformed, nested too deeply, a key written twice
in one object). A JSON body sent as another media type (`text/plain`) is **415**. A body that is JSON but
whose content breaks the operation's schema or a rule is **422 Unprocessable Content**: a missing or empty
body, an unknown or server-owned field, a wrong type (`true` is not a quantity, `"7"` is not an integer), text
a database cannot store (NUL), a date outside 1970-01-01…2999-12-31, an instant without its offset or outside
1970-01-01T00:00:00Z…2999-12-31T23:59:59Z, a period that is not a month (`YYYY-MM`), free JSON with NaN or
Infinity or nested deeper than 32 levels, an amount that is not a string of ASCII digits, or a rule across
fields (an end before its start, named `body`; a field that refers to an object that does not exist or that
the caller may not see, named by that field; the operation's own object, in the path, is a 404). Either way
the answer is `application/problem+json` and its `errors` name each field (`items.0.quantity`) or parameter
(`limit`); nothing is written."""

# The most problems one answer lists: a file or a batch may have a problem in every row, and its answer is still
# short (``error_count`` then says how many there were).
MAX_LISTED_ERRORS = 200
# A handler's ``opt``: the most JSON tokens (strings, commas, opening brackets) its body may hold, counted before
# the body is decoded: for a route whose body limit is larger than its largest valid content needs. Decoded,
# every value costs memory, and every unknown key a validation error.
JSON_MAX_TOKENS = "json_max_tokens"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    # Where in an uploaded file (a CSV or XLSX sheet): the line and the column header as the file spells it.
    line: int | None = None
    column: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.line is not None:
            body["line"] = self.line
        if self.column is not None:
            body["column"] = self.column
        return body


class DomainError(Exception):
    """A business rule refused the request; ``status`` is the HTTP status it maps to."""

    status: int = 400
    code: ClassVar[str] = "bad-request"
    title: str = "Bad Request"

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


class PasswordChangeRequired(DomainError):
    """A person whose password an admin set must choose their own before anything else (the console shows the
    page for it)."""

    status = 403
    code = "password-change-required"
    title = "Forbidden"


class Conflict(DomainError):
    """The request is valid but the current state of things refuses it."""

    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidInput(DomainError):
    """Input that breaks a rule; always names the offending field. See ``INPUT_POLICY`` for 400 vs 422.

    A field of the body is 422; a query, path or header parameter (``parameter=True``) is 400.
    """

    code = "invalid-input"

    def __init__(self, field: str, message: str, *, parameter: bool = False) -> None:
        super().__init__(f"{field}: {message}", errors=[FieldError(field, message)])
        self.status, self.title = (400, "Bad Request") if parameter else (422, "Unprocessable Content")


class InvalidInputs(DomainError):
    """Several fields refused at once, each named: a batch names its items' fields as ``items.3.score``.

    Parameters of the request (``parameters=True``: query, path or header) are a 400, as for ``InvalidInput``."""

    status = 422
    code = "invalid-input"
    title = "Unprocessable Content"

    def __init__(self, detail: str, errors: Sequence[FieldError], *, parameters: bool = False) -> None:
        super().__init__(detail, errors=errors)
        if parameters:
            self.status, self.title = 400, "Bad Request"


class InvalidRows(DomainError):
    """Input with many bad parts (the rows of a file, the items of a list), named at once: 422. ``total`` is how
    many problems were found, when ``errors`` lists only the first of them."""

    status = 422
    code = "invalid-input"
    title = "Unprocessable Content"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = (), total: int | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.total = max(total or 0, len(self.errors))


class ErrorList:
    """The problems of an input with many parts: the first ``MAX_LISTED_ERRORS``, and how many there were.

    Counting instead of keeping them all bounds what a hostile input costs: a file with a problem in each of
    millions of cells is one short answer.
    """

    def __init__(self, keep: int = MAX_LISTED_ERRORS) -> None:
        self.keep = keep
        self.listed: list[FieldError] = []
        self.count = 0

    def add(self, error: FieldError) -> None:
        self.count += 1
        if len(self.listed) < self.keep:
            self.listed.append(error)

    def extend(self, errors: Iterable[FieldError]) -> None:
        for error in errors:
            self.add(error)

    def first(self, error: FieldError) -> None:
        """``error`` ahead of the others (the one that stopped reading a file, say)."""
        self.count += 1
        self.listed = [error, *self.listed][: self.keep]

    def __iter__(self) -> Iterator[FieldError]:
        return iter(self.listed)

    def in_file_order(self) -> None:
        """The listed problems by line (a problem of the whole file, without a line, first), so that format and
        rule problems found in separate passes read as one list down the file."""
        self.listed.sort(key=lambda error: error.line or 0)

    def __len__(self) -> int:
        return self.count

    def refusal(self, doing: str) -> InvalidRows:
        """``Nothing was added: 3 problem(s) found.``, with ``doing`` for "Nothing was added"."""
        listed = f" The first {len(self.listed)} are listed." if self.count > len(self.listed) else ""
        return InvalidRows(f"{doing}: {self.count} problem(s) found.{listed}", errors=self.listed, total=self.count)


@contextmanager
def referenced(field: str) -> Iterator[None]:
    """Looking up an object a body refers to: missing (or not visible) is 422 naming ``field``, not a 404.

    A 404 says the operation's own object (its path) does not exist; a reference in the body that leads
    nowhere is bad input, answered like any other: ``with referenced("user_id"): get_user(...)``.
    """
    try:
        yield
    except NotFound as exc:
        raise InvalidInput(field, exc.detail.replace("No ", "no ", 1).rstrip(".")) from exc


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
    error_count: int = 0,
) -> Response[dict[str, Any]]:
    """The problem+json answer. At most ``MAX_LISTED_ERRORS`` of ``errors`` are listed; when there were more
    (``error_count``, or ``errors`` itself), ``error_count`` says how many."""
    body: dict[str, Any] = {"type": f"urn:opscenter:problem:{code}", "title": title, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = [e.as_json() for e in errors[:MAX_LISTED_ERRORS]]
        if (count := max(error_count, len(errors))) > len(body["errors"]):
            body["error_count"] = count
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


UNAUTHENTICATED_DETAIL = "A valid API key is required: Authorization: Bearer <key>."


def _domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    total = exc.total if isinstance(exc, InvalidRows) else 0
    return problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors, error_count=total)


_JSON_TOKEN = re.compile(rb'[",{\[]')
_JSON_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.DOTALL)  # possessive: never backtracks


def json_tokens_beyond(body: bytes, limit: int) -> bool:
    """Whether ``body`` holds more than ``limit`` JSON tokens: strings (keys too), commas and opening brackets,
    the things that decoding would turn into objects. Stops counting at ``limit``, copies nothing, and scans
    each byte once, so it costs little whatever the body (a hostile one included; an unclosed string ends
    the count, and the decoder refuses it)."""
    count, position = 0, 0
    while (token := _JSON_TOKEN.search(body, position)) is not None:
        count += 1
        if count > limit:
            return True
        position = token.end()
        if token.group() == b'"':
            rest = _JSON_STRING_REST.match(body, position)
            if rest is None:
                return False
            position = rest.end()
    return False


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen.add(key)
    return dict(pairs)


def duplicate_key(body: bytes) -> str | None:
    """The first key written twice in one object of the JSON ``body`` (which the caller has decoded already), or
    None. Every decoder keeps one of the two silently (the last), so the sender's intent is unknowable."""
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as duplicate:
        return duplicate.key
    except (ValueError, RecursionError):  # what the house decoder accepted and this one does not: not our question
        return None
    return None


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` (with any parameters, e.g. charset) or a ``+json`` type such as problem+json."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class JsonGuardedRequest(Request[Any, Any, Any]):
    """A request whose JSON body, however hostile, is a 4xx and never a crash of the decoder, nor decoded when
    it holds more tokens than its route's ``JSON_MAX_TOKENS`` allows. Read strictly: a body labelled as another
    media type (``text/plain``) is a 415, and a key written twice in one object a 400 naming it."""

    async def json(self) -> Any:
        body = await self.body()
        content_type = self.headers.get("content-type")
        if body.strip() and content_type is not None and not is_json_media_type(content_type):
            raise HTTPException(
                status_code=415,
                detail=f"The body is sent as {content_type.split(';', 1)[0]!r}; this operation reads JSON: "
                "send it with Content-Type: application/json.",
            )
        limit = self.route_handler.opt.get(JSON_MAX_TOKENS)
        if limit is not None and json_tokens_beyond(body, limit):
            raise InvalidInput(
                "body", f"holds more than {limit} JSON strings, commas and brackets, more than this operation reads"
            )
        try:
            value = await super().json()
        except RecursionError as exc:
            raise ClientException("The JSON body is nested too deeply to be read.") from exc
        if isinstance(value, dict | list) and (key := duplicate_key(body)) is not None:
            raise InvalidInput(key, "is written twice in one JSON object; send each field once", parameter=True)
        return value


def _field_error(message: Mapping[str, Any]) -> FieldError:
    key, text = str(message.get("key") or "body"), str(message.get("message"))
    if key == "data":  # Litestar's name for the whole body: missing, or refused whole by a rule of the model
        if text == "'data'":
            return FieldError("body", "a JSON request body is required; this request has none")
        key = "body"
    if key == "body" and text.startswith("Input should be a valid dictionary"):  # `null`, a list, a number
        return FieldError("body", "must be a JSON object")
    if text == "Extra inputs are not permitted":  # pydantic's words for a field the model lacks
        return FieldError(key, unknown_field_message(key.rsplit(".", 1)[-1]))
    if text.startswith("Value error, "):
        text = text.removeprefix("Value error, ")
    return FieldError(key, text)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    messages = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(m) for m in messages]
    # A body that parses but breaks the schema is 422; a bad query, path or header value is 400.
    # (Errors raised inside a pydantic body model carry no source: Litestar only tags parameters.)
    in_body = any(m.get("source", "body") == "body" for m in messages)
    status, title = (422, "Unprocessable Content") if in_body else (400, "Bad Request")
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:_SUMMARIZED]) or str(exc.detail)
    if len(errors) > _SUMMARIZED:
        summary += f"; and {len(errors) - _SUMMARIZED} more"
    return problem(status, "invalid-input", title, summary, errors=errors)


_SUMMARIZED = 20  # problems named in the detail of a validation answer (``errors`` lists more)


def _unauthenticated(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[dict[str, Any]]:
    # One body for missing, malformed, unknown, revoked and expired keys: no oracle for probing keys.
    return problem(
        401,
        "unauthenticated",
        "Unauthorized",
        UNAUTHENTICATED_DETAIL,
        headers={"WWW-Authenticate": 'Bearer realm="opscenter"'},
    )


_HTTP_CODES = {
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:  # raised by Litestar on purpose (e.g. the client hung up mid-body): no traceback needed
        log.warning("%s %s: %s", request.method, request.url.path, exc.detail)
        detail = str(exc.detail) if request.app.debug else "An internal error occurred; it has been logged."
        return problem(status, "internal", _phrase(status), detail)
    headers = dict(exc.headers or {})
    detail = str(exc.detail)
    if status == 413:
        limit = _body_limit(request)
        detail = (
            f"The request body is larger than {limit} bytes ({limit / 1_048_576:g} MiB), the most this route takes."
        )
    return problem(status, _HTTP_CODES.get(status, "bad-request"), _phrase(status), detail, headers=headers)


def _body_limit(request: Request[Any, Any, Any]) -> int:
    """The limit a route put on its body (an upload route takes more than the app-wide limit for JSON)."""
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except (KeyError, AttributeError):  # refused before routing
        limit = None
    fallback = request.app.request_max_body_size
    return limit or (fallback if isinstance(fallback, int) else 0)


def _stale(_: Request[Any, Any, Any], __: StaleDataError) -> Response[dict[str, Any]]:
    exc = PreconditionFailed()
    return problem(exc.status, exc.code, exc.title, exc.detail)


def _integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    # Services check uniqueness first; this is the race where two requests passed that check together.
    log.info("integrity race on %s %s: %s", request.method, request.url.path, exc.orig)
    claimed = unique_violation(exc)
    if claimed is None:
        return problem(409, "conflict", "Conflict", "The request conflicts with a concurrent change; retry it.")
    table, field = claimed
    return problem(
        409,
        "conflict",
        "Conflict",
        f"Another {table.replace('_', ' ')} with this {field} was created at the same moment.",
        errors=[FieldError(field, "already taken")],
    )


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")


def unique_violation(exc: IntegrityError) -> tuple[str, str] | None:
    """(table, field) of the unique key a write lost a race for, or None when it was another integrity error.

    The field is the key's last column (``fiscal_year`` of (department_id, fiscal_year)): the one a person
    chose and must change. PostgreSQL names the constraint; SQLite names the columns.
    """
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint:
        for table in SQLModel.metadata.tables.values():
            unique_keys: list[UniqueConstraint | PrimaryKeyConstraint | Index] = [
                key for key in table.constraints if isinstance(key, UniqueConstraint | PrimaryKeyConstraint)
            ]
            unique_keys += [index for index in table.indexes if index.unique]
            for key in unique_keys:
                if key.name == constraint:
                    return table.name, list(key.columns)[-1].name
        return None
    match = _SQLITE_UNIQUE.search(str(exc.orig))
    if match is None:
        return None
    table_name, _, column = match.group("columns").split(", ")[-1].partition(".")
    return table_name, column


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
    # The id the log line carries (opscenter.logs), so a user's report of a 500 leads to its traceback.
    extra: dict[str, Any] = {"request_id": str(request.scope.get("state", {}).get("request_id", "-"))}
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
        if _is_person(request):
            response = _for_people(request, response)
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            response.headers.setdefault("X-Request-ID", str(request_id))
        return response

    return tagged


_CONSOLE = "/console"


def _is_person(request: Request[Any, Any, Any]) -> bool:
    """A person at the console (a browser with a session cookie), not a machine with a key."""
    path = request.scope.get("path", "")
    return (path == _CONSOLE or path.startswith(_CONSOLE + "/")) and "authorization" not in request.headers


def _for_people(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """The console's answer to an error: the login page for a person without a valid session (an HTMX request is
    told to go there), a page saying what went wrong otherwise, with the same status as the API's answer."""
    body = response.content if isinstance(response.content, dict) else {}
    if response.status_code == 403 and body.get("type", "").endswith(PasswordChangeRequired.code):
        return Response(b"", status_code=303, headers={"Location": f"{_CONSOLE}/password"})
    if response.status_code == 401:
        target = f"{_CONSOLE}/login"
        if request.method == "GET" and request.url.path != target:
            target += f"?next={quote(request.url.path)}"
        if "hx-request" in request.headers:
            return Response(b"", status_code=401, headers={"HX-Redirect": target})
        return Response(b"", status_code=303, headers={"Location": target})
    engine = getattr(request.app, "template_engine", None)
    if engine is None:
        return response
    html = engine.get_template("shell/error.html").render(
        status=response.status_code,
        title=_PEOPLE_TITLES.get(response.status_code or 500, "出错了"),
        detail=body.get("detail", ""),
        errors=body.get("errors", []),
        request=request,
    )
    return Response(html, status_code=response.status_code, media_type="text/html", headers=dict(response.headers))


_PEOPLE_TITLES = {
    400: "输入有误",
    403: "无权访问",
    404: "未找到",
    405: "不支持的操作",
    409: "当前状态不允许此操作",
    412: "内容已被他人修改",
    413: "文件过大",
    422: "输入有误",
    500: "服务器内部错误",
}


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
    "INPUT_POLICY",
    "MAX_LISTED_ERRORS",
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "ErrorList",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "InvalidInputs",
    "InvalidRows",
    "NotFound",
    "PasswordChangeRequired",
    "PreconditionFailed",
    "PreconditionRequired",
    "problem",
    "referenced",
]
